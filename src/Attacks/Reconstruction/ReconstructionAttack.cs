using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>How a reconstruction attack gets its labels: learned jointly as soft labels, iDLG's rule (B = 1), or iDLG
/// when B = 1 and joint otherwise.</summary>
public enum LabelMode { Joint, Idlg, Auto }

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

    /// <summary>Whether labels are learned with the inputs or fixed by iDLG's rule (then only the inputs are optimised).</summary>
    protected abstract LabelMode Labels { get; }

    /// <summary>The objective for one upload (parameter order); built afresh for every restart.</summary>
    protected abstract MatchObjective Objective(IReadOnlyList<Tensor> upload, UpdateKind kind, PublicInfo info);

    /// <summary>Values the scorer reports beside the attack's own, such as the true 1/η next to DLM's learned k.</summary>
    protected virtual IReadOnlyDictionary<string, double> Reference(PublicInfo info) => new Dictionary<string, double>();

    public AttackOutcome Run(ServerView view, AttackContext context)
    {
        var info = view.Info;
        var targets = view.ClientUpdates is { } uploads
            ? uploads.Select((u, k) => (Target: k, Update: u, Batch: info.BatchSizes[k])).ToArray()
            : [(LabelRecovery.Aggregate, view.Aggregate, view.AggregateBatchSize)];
        var matcher = new GradientMatcher(view.Model, Options.Resolve(view.Model, AdamRate), Clock);
        var labels = new List<LabelRecovery>();
        var images = new List<ImageRecovery>();
        var extras = new Dictionary<string, List<double>>();
        foreach (var (target, update, batch) in targets)
        {
            using var scope = torch.NewDisposeScope();
            var tensors = Tensors(update, view.Model);
            int[]? fixedLabels = Labels == LabelMode.Idlg || (Labels == LabelMode.Auto && batch == 1) ? [Idlg.Label(update, batch, Id)] : null;
            var result = matcher.Reconstruct(batch, info.Shape, fixedLabels, () => Objective(tensors, update.Kind, info), context.Rng);
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
        return new AttackOutcome(labels) { Images = images, Extras = extras.ToDictionary(kv => kv.Key, kv => kv.Value.Average()) };
    }

    /// <summary>The upload's tensors in the model's parameter order.</summary>
    private IReadOnlyList<Tensor> Tensors(Update update, Classifier model) => model.ParameterNames.Select(name => update.Contains(name)
        ? update[name]
        : throw new NotApplicableException($"{Id} matches every parameter and the upload lacks '{name}'")).ToArray();
}
