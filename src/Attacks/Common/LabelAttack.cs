using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
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

    /// <summary>True when the attack recovers which classes are present but not how often (iDLG, GI, RLG).</summary>
    public virtual bool ExistenceOnly => false;

    public AttackOutcome Run(ServerView view, AttackContext context) => new(Layers(view, context)
        .Select(t => new LabelRecovery(t.Target, Recover(t.Layer, view, context)) { ExistenceOnly = ExistenceOnly })
        .ToArray());

    /// <summary>
    /// The last layers the attack reads, one per target: every client's upload when the view shows them, otherwise
    /// the aggregate. Throws <see cref="NotApplicableException"/> when the view lacks what <see cref="Needs"/> says.
    /// </summary>
    public IReadOnlyList<(int Target, LastLayer Layer)> Layers(ServerView view, AttackContext context)
    {
        if (Needs.HasFlag(AttackNeeds.FcBias) && !view.Aggregate.Contains(Core.Models.Classifier.FcBias))
            throw new NotApplicableException($"{Id} needs the last layer's bias gradient and the model has no bias");
        if (Needs.HasFlag(AttackNeeds.KnownClasses) && context.KnownClasses == null)
            throw new NotApplicableException($"{Id} needs the set of classes present, which this run does not lend");
        var info = view.Info;
        LastLayer Layer(Update update, int batchSize, int target) => LastLayer.From(update, batchSize, info.Protocol, view.Model) with
        {
            KnownClasses = Needs.HasFlag(AttackNeeds.KnownClasses) ? context.KnownClasses!(target) : null,
        };
        if (view.ClientUpdates is { } uploads)
            return uploads.Select((u, k) => (k, Layer(u, info.BatchSizes[k], k))).ToArray();
        // The aggregate holds the contributors' batches only (the survivors of a secure aggregation with dropouts).
        return [(LabelRecovery.Aggregate, Layer(view.Aggregate, view.AggregateBatchSize, LabelRecovery.Aggregate))];
    }

    /// <summary>Recovered counts per class (length C) from one last-layer gradient; 1 per present class when <see cref="ExistenceOnly"/>.</summary>
    public abstract int[] Recover(LastLayer layer, ServerView view, AttackContext context);
}
