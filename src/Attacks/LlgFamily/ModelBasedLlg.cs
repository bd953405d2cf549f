using DefenseBench.Attacks.Common;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Federation;

namespace DefenseBench.Attacks.LlgFamily;

/// <summary>How LLG* and LLG+ compute their estimate: the batched closed form (default) or one autograd pass per batch.</summary>
public enum Estimator { Batched, Autograd }

/// <summary>
/// LLG* and LLG+: impact m and offset s estimated with the current model on class-pure batches (U = 1), scaled to the
/// upload's U steps by <see cref="Scaling"/>, then extraction with h = g − s. LLG+ sorts and truncates the stage-1 set;
/// LLG* does not (the LLG code's behaviour). Non-adaptive, the estimation batches see no defence. <see cref="Adaptive"/>,
/// the attacker knows the defence (docs/attacks.md, adaptive attacks) and passes them through what it knows: DP-SGD's
/// per-example clipping and top-k's selection, so m and s scale like the observed g; a clip of the whole upload or of its tensors scales g by one unknown factor, which it fits to g.
/// </summary>
public abstract class ModelBasedLlg(int repeats, Estimator estimator, LlgScaling scaling, bool adaptive = false) : LabelAttack
{
    public int Repeats { get; } = repeats;
    public Estimator Estimator { get; } = estimator;
    public LlgScaling Scaling { get; } = scaling;
    public bool Adaptive { get; } = adaptive;
    protected abstract bool SortAndTruncate { get; }

    protected abstract EstimationData Data(LastLayer layer, ServerView view, AttackContext context);

    public override int[] Recover(LastLayer layer, ServerView view, AttackContext context)
    {
        var known = Adaptive ? KnownDefense.Of(view.Defense) : KnownDefense.Nothing;
        var estimate = Estimate(layer, view, context, known);
        var g = layer.RowSums();
        if (Clipped(layer, view, known))
            estimate = estimate.Scaled(LlgExtraction.FitScale(g, layer.Labels, estimate, SortAndTruncate));
        return LlgExtraction.Extract(g, layer.Labels, estimate.Impact, estimate.Offset, SortAndTruncate);
    }

    /// <summary>
    /// Whether the upload may have been scaled by a clip of the whole upload or of its tensors. Under clip-and-noise
    /// without noise the FC weight tensor's norm says it (it sits on the bound); under DP-FedAvg the aggregate of
    /// clipped uploads shows no such sign, so any finite clip counts.
    /// </summary>
    private static bool Clipped(LastLayer layer, ServerView view, KnownDefense known)
    {
        if (known.UpdateClip != null) return true;
        if (known.TensorClip is not { } bound) return false;
        if (known.Noised) return true;
        using var scope = TorchSharp.torch.NewDisposeScope();
        double norm = layer.WeightGrad.to(TorchSharp.torch.ScalarType.Float64).norm().cpu().item<double>();
        return norm >= KnownDefense.InGradientUnits(bound, view.Aggregate.Kind, view.Info.Protocol) * (1 - 1e-4);
    }

    /// <summary>
    /// m and s from class-pure batches passed through <paramref name="known"/>'s per-example clipping and top-k selection
    /// (nothing known: the non-adaptive estimate).
    /// </summary>
    public ImpactEstimate Estimate(LastLayer layer, ServerView view, AttackContext context, KnownDefense? known = null)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        known ??= KnownDefense.Nothing;
        var data = Data(layer, view, context);
        var model = view.Model;
        var defense = new EstimationDefense(known.ExampleClip, known.Keep, known.GlobalTopK);
        // A sample's output depends on its batch only through batch norm in train mode; then only the reference is exact.
        // Top-k's selection is a function of a whole batch's gradient, so it too needs the batches.
        bool closedForm = defense.Keep == null && Estimator == Estimator.Batched && !(model.HasBatchNorm && model.training);
        var sums = closedForm
            ? ImpactEstimator.ClassSumsClosedForm(model, data.Weighted(), defense)
            : ImpactEstimator.ClassSumsAutograd(model, data.Batches(), defense);
        return ImpactEstimator.FromClassSums(sums, layer.BatchSize, layer.Steps, Repeats, Scaling);
    }
}
