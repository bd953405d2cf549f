using DefenseBench.Attacks.Common;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>How a reconstruction attack gets its labels: learned jointly as soft labels, iDLG's rule (B = 1), iDLG
/// when B = 1 and joint otherwise, or analytic (<see cref="AnalyticLabels"/>: iDLG at B = 1, iLRG's counts at B &gt; 1).</summary>
public enum LabelMode { Joint, Idlg, Auto, Analytic }

/// <summary>
/// A gradient-matching reconstruction attack: each client's upload when the server sees them, otherwise the aggregate
/// (then one dummy batch of Σ B_k images). The upload's tensors are taken by the model's parameter names, so buffers
/// never enter the match. Returns the reconstructed images, the labels the run ends with, and what the objective reports.
/// </summary>
public abstract class ReconstructionAttack(ReconstructionOptions options) : IAttack
{
    public abstract string Id { get; }
    public AttackNeeds Needs => AttackNeeds.None;
    public ReconstructionOptions Options { get; } = options;

    /// <summary>Set by benchmarks: accumulates the time spent in autograd and the closure evaluations of every run.</summary>
    public MatchClock? Clock { get; set; }

    /// <summary>The reference Adam rate of this attack (0.1; DLM+ 0.01).</summary>
    protected virtual double AdamRate => 0.1;

    /// <summary>
    /// Whether the attack compares gradients in known units (DLG, iDLG: η is public), so that an adaptive attacker can
    /// clip its dummy gradients as the defence clipped the upload; false for attacks that learn or remove the scale.
    /// </summary>
    protected virtual bool KnowsScale => true;

    /// <summary>Whether labels are learned with the inputs or fixed by iDLG's rule (then only the inputs are optimised).</summary>
    protected abstract LabelMode Labels { get; }

    /// <summary>
    /// The objective of <paramref name="problems"/> problems whose uploads are stacked [P, ...] (or [1, ...] when they
    /// share one) in parameter order; built afresh for every set of restarts.
    /// </summary>
    protected abstract MatchObjective Objective(IReadOnlyList<Tensor> uploads, int problems, UpdateKind kind, PublicInfo info);

    /// <summary>Values the scorer reports beside the attack's own, such as the true 1/η next to DLM's learned k.</summary>
    protected virtual IReadOnlyDictionary<string, double> Reference(PublicInfo info) => new Dictionary<string, double>();

    public AttackOutcome Run(ServerView view, AttackContext context) => RunMany([(view, context)])[0].Get();

    /// <summary>
    /// Several views at once (the seeds of a cell): every restart of every target of every view is a problem, and the
    /// problems are solved together (<see cref="GradientMatcher"/>), each following the trajectory it would follow alone,
    /// so each view's outcome is the one <see cref="Run"/> gives it. A view the attack does not apply to gets its error.
    /// </summary>
    public IReadOnlyList<ViewOutcome> RunMany(IReadOnlyList<(ServerView View, AttackContext Context)> runs)
    {
        using var scope = torch.NewDisposeScope();
        var outcomes = new ViewOutcome[runs.Count];
        var plans = new List<(int Run, (int Target, Update Update, int Batch)[] Targets, MatchVictim[] Victims)>();
        for (int r = 0; r < runs.Count; r++)
        {
            var (view, context) = runs[r];
            var info = view.Info;
            var targets = view.ClientUpdates is { } uploads
                ? uploads.Select((u, k) => (Target: k, Update: u, Batch: info.BatchSizes[k])).ToArray()
                : [(LabelRecovery.Aggregate, view.Aggregate, view.AggregateBatchSize)];
            try
            {
                // A view's restarts draw their seeds from its context's stream, client by client.
                plans.Add((r, targets, targets.Select(t => new MatchVictim(view.Model, Tensors(t.Update, view.Model), t.Batch,
                    FixedLabels(t.Update, t.Batch, view), context.Rng)).ToArray()));
            }
            catch (NotApplicableException e)
            {
                outcomes[r] = new ViewOutcome(null, e);
            }
        }
        if (plans.Count == 0) return outcomes;
        var first = runs[plans[0].Run].View;
        var kind = plans[0].Targets[0].Update.Kind;
        var matcher = new GradientMatcher(Settings(first.Model), Clock);
        // Every view of a cell went through the same defence; an adaptive attacker matches through what it knows of it.
        var known = Options.Adaptive ? KnownDefense.Of(first.Defense) : KnownDefense.Nothing;
        var results = matcher.Reconstruct(plans.SelectMany(p => p.Victims).ToArray(), first.Info.Shape,
            (uploads, problems) => DefenseAwareMatch.For(known, uploads, kind, first.Info.Protocol, KnowsScale,
                targets => Objective(targets, problems, kind, first.Info)));
        int next = 0;
        foreach (var plan in plans)
        {
            var info = runs[plan.Run].View.Info;
            var labels = new List<LabelRecovery>();
            var images = new List<ImageRecovery>();
            var extras = new Dictionary<string, List<double>>();
            foreach (var (target, _, _) in plan.Targets)
            {
                var result = results[next++];
                images.Add(new ImageRecovery(target, info.Shape, result.Images));
                labels.Add(new LabelRecovery(target, LabelMetrics.Counts(result.Labels, info.NumClasses)));
                var values = new Dictionary<string, double>(result.Report)
                {
                    ["match_loss"] = result.Loss,
                    ["evaluations"] = result.Evaluations,
                    ["diverged"] = result.Diverged ? 1 : 0,
                };
                foreach (var (key, value) in values.Concat(Reference(info)))
                    (extras.TryGetValue(key, out var list) ? list : extras[key] = []).Add(value);
            }
            // One row per cell: side values are averaged over the targets (one target unless several clients are attacked).
            outcomes[plan.Run] = new ViewOutcome(new AttackOutcome(labels) { Images = images, Extras = extras.ToDictionary(kv => kv.Key, kv => kv.Value.Average()) }, null);
        }
        return outcomes;
    }

    /// <summary>The optimiser settings for <paramref name="model"/>: the options resolved with the attack's reference Adam rate.</summary>
    protected virtual MatchSettings Settings(Classifier model) => Options.Resolve(model, AdamRate);

    /// <summary>The labels a target's dummies are fixed to, or null when they are learned (<see cref="Labels"/>).</summary>
    private int[]? FixedLabels(Update update, int batchSize, ServerView view) => Labels switch
    {
        LabelMode.Idlg => [Idlg.Label(update, batchSize, Id)],
        LabelMode.Auto when batchSize == 1 => [Idlg.Label(update, batchSize, Id)],
        LabelMode.Analytic => AnalyticLabels.Of(update, batchSize, view.Info.Protocol, view.Model, Id),
        _ => null,
    };

    /// <summary>The upload's tensors in the model's parameter order.</summary>
    private IReadOnlyList<Tensor> Tensors(Update update, Classifier model) => model.ParameterNames.Select(name => update.Contains(name)
        ? update[name]
        : throw new NotApplicableException($"{Id} matches every parameter and the upload lacks '{name}'")).ToArray();
}

/// <summary>An attack's outcome on one view of a batched run, or the error the attack raised for that view.</summary>
public sealed record ViewOutcome(AttackOutcome? Outcome, Exception? Error)
{
    /// <summary>The outcome, or the view's error rethrown.</summary>
    public AttackOutcome Get()
    {
        if (Outcome == null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(Error!);
        return Outcome!;
    }
}
