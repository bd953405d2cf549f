using DefenseBench.Attacks.Common;
using TorchSharp;

namespace DefenseBench.Attacks.LabelBaselines;

/// <summary>
/// GradInversion's label rule (Yin et al. 2021; the iLRG code's gi_infer): class c is present iff some entry of its
/// weight-gradient row is negative, min_d ∇W[c, d] &lt; 0. With non-negative embeddings an absent class's row is
/// entrywise non-negative; negative embedding entries break that. Existence only.
/// </summary>
public sealed class GiLabel : LastLayerAttack
{
    public override string Id => "gi-label";
    public override bool ExistenceOnly => true;

    public override int[] Recover(LastLayer layer)
    {
        using var scope = torch.NewDisposeScope();
        var minima = layer.WeightGrad.amin(1).to(torch.ScalarType.Float64).cpu().data<double>().ToArray();
        return Indicator(minima.Select(m => m < 0));
    }
}
