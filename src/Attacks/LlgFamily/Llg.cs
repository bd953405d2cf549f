using DefenseBench.Attacks.Common;

namespace DefenseBench.Attacks.LlgFamily;

/// <summary>LLG (gradient only): impact from the negative row sums, no offset, stage-1 set neither sorted nor truncated.</summary>
public sealed class Llg : LastLayerAttack
{
    public override string Id => "llg";

    public override int[] Recover(LastLayer layer)
    {
        double[] g = layer.RowSums();
        double impact = LlgExtraction.GradientOnlyImpact(g, layer.BatchSize, layer.Steps);
        return LlgExtraction.Extract(g, layer.Labels, impact, offset: null, sortAndTruncate: false);
    }
}
