using DefenseBench.Attacks.Common;
using DefenseBench.Attacks.LlgFamily;
using DefenseBench.Core.Attacks;

namespace DefenseBench.Attacks.LabelBaselines;

/// <summary>
/// The bias-corrected label attack ("EBI"; breaching's bias-corrected strategy, docs/attacks.md, iLRG's baselines): stage 1 takes every
/// class with ∇b_c &lt; 0, the impact is m = Σ_{∇b_c &lt; 0} ∇b_c / N (N = B·U labels), and LLG's extraction runs
/// on the bias gradient with no offset: each stage-1 class once, then argmin with h_c −= m until N labels are out.
/// </summary>
public sealed class Ebi : LastLayerAttack
{
    public override string Id => "ebi";
    public override AttackNeeds Needs => AttackNeeds.FcBias;

    public override int[] Recover(LastLayer layer)
    {
        double[] gb = layer.BiasGradient();
        double impact = gb.Where(v => v < 0).Sum() / layer.Labels;
        return LlgExtraction.Extract(gb, layer.Labels, impact, offset: null, sortAndTruncate: false);
    }
}
