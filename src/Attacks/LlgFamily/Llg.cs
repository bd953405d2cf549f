using DefenseBench.Attacks.Common;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Federation;

namespace DefenseBench.Attacks.LlgFamily;

/// <summary>LLG (gradient only): impact from the negative row sums, no offset, stage-1 set neither sorted nor truncated.</summary>
public sealed class Llg : LabelAttack
{
    public override string Id => "llg";

    public override int[] Recover(LastLayer layer, ServerView view, AttackContext context) => Recover(layer);

    /// <summary>Needs nothing but the gradient, so captured updates can be audited without a model.</summary>
    public static int[] Recover(LastLayer layer)
    {
        double[] g = layer.RowSums();
        double impact = LlgExtraction.GradientOnlyImpact(g, layer.BatchSize, layer.Steps);
        return LlgExtraction.Extract(g, layer.Labels, impact, offset: null, sortAndTruncate: false);
    }
}
