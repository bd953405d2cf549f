using DefenseBench.Attacks.Common;

namespace DefenseBench.Attacks.LabelBaselines;

/// <summary>
/// iDLG extended to batches (the iLRG code's idlg_infer): class c is present iff its weight-gradient row sum is
/// negative. Exact for one sample with non-negative embeddings; negative embedding entries (SiLU, LeakyReLU) and
/// large batches break it (docs/attacks.md, what is not claimed). Existence only.
/// </summary>
public sealed class IdlgLabel : LastLayerAttack
{
    public override string Id => "idlg-label";
    public override bool ExistenceOnly => true;

    public override int[] Recover(LastLayer layer) => Indicator(layer.RowSums().Select(g => g < 0));
}
