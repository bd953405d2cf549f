using DefenseBench.Attacks.Common;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Federation;

namespace DefenseBench.Attacks.LlgFamily;

/// <summary>How LLG* and LLG+ compute their estimate: the batched closed form (default) or one autograd pass per batch.</summary>
public enum Estimator { Batched, Autograd }

/// <summary>
/// LLG* and LLG+: impact m and offset s estimated with the current model on class-pure batches (defences off, U = 1),
/// scaled to the upload's U steps by <see cref="Scaling"/>, then extraction with h = g − s. LLG+ sorts and truncates
/// the stage-1 set; LLG* does not (the LLG code's behaviour).
/// </summary>
public abstract class ModelBasedLlg(int repeats, Estimator estimator, LlgScaling scaling) : LabelAttack
{
    public int Repeats { get; } = repeats;
    public Estimator Estimator { get; } = estimator;
    public LlgScaling Scaling { get; } = scaling;
    protected abstract bool SortAndTruncate { get; }

    protected abstract EstimationData Data(LastLayer layer, ServerView view, AttackContext context);

    public override int[] Recover(LastLayer layer, ServerView view, AttackContext context)
    {
        var estimate = Estimate(layer, view, context);
        return LlgExtraction.Extract(layer.RowSums(), layer.Labels, estimate.Impact, estimate.Offset, SortAndTruncate);
    }

    public ImpactEstimate Estimate(LastLayer layer, ServerView view, AttackContext context)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var data = Data(layer, view, context);
        var model = view.Model;
        // A sample's output depends on its batch only through batch norm in train mode; then only the reference is exact.
        bool closedForm = Estimator == Estimator.Batched && !(model.HasBatchNorm && model.training);
        var sums = closedForm
            ? ImpactEstimator.ClassSumsClosedForm(model, data.Weighted())
            : ImpactEstimator.ClassSumsAutograd(model, data.Batches());
        return ImpactEstimator.FromClassSums(sums, layer.BatchSize, layer.Steps, Repeats, Scaling);
    }
}
