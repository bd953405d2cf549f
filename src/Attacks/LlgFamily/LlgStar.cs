using DefenseBench.Attacks.Common;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Federation;

namespace DefenseBench.Attacks.LlgFamily;

/// <summary>LLG*: white-box model, no data; estimates from dummy inputs (zeros, ones, or the code's "random").</summary>
public sealed class LlgStar(int repeats, string dummy, Estimator estimator, LlgScaling scaling = LlgScaling.Sum, bool adaptive = false)
    : ModelBasedLlg(repeats, estimator, scaling, adaptive)
{
    public override string Id => "llg-star";
    protected override bool SortAndTruncate => false;

    protected override EstimationData Data(LastLayer layer, ServerView view, AttackContext context) =>
        new DummyInputs(view.Info.Shape, dummy, layer.NumClasses, layer.BatchSize, Repeats, context.Rng.NextTorchSeed(), context.Device);
}
