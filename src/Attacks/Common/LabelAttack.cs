using DefenseBench.Core.Attacks;
using DefenseBench.Core.Federation;

namespace DefenseBench.Attacks.Common;

/// <summary>
/// A label attack that reads one last-layer gradient at a time: each client's upload when the server sees them,
/// otherwise the aggregate (which then behaves like one client holding every batch, so it leaks aggregate counts).
/// </summary>
public abstract class LabelAttack : IAttack
{
    public abstract string Id { get; }
    public virtual AttackNeeds Needs => AttackNeeds.None;

    public AttackOutcome Run(ServerView view, AttackContext context)
    {
        if (Needs.HasFlag(AttackNeeds.FcBias) && !view.Aggregate.Contains(Core.Models.Classifier.FcBias))
            throw new NotApplicableException($"{Id} needs the last layer's bias gradient and the model has no bias");
        var info = view.Info;
        if (view.ClientUpdates is { } uploads)
            return new AttackOutcome(uploads.Select((u, k) =>
                new LabelRecovery(k, Recover(LastLayer.From(u, info.BatchSizes[k], info.Protocol), view, context))).ToArray());
        var aggregate = LastLayer.From(view.Aggregate, info.BatchSizes.Sum(), info.Protocol);
        return new AttackOutcome([new LabelRecovery(LabelRecovery.Aggregate, Recover(aggregate, view, context))]);
    }

    /// <summary>Recovered counts per class (length C) from one last-layer gradient.</summary>
    public abstract int[] Recover(LastLayer layer, ServerView view, AttackContext context);
}
