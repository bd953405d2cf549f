using DefenseBench.Attacks.Common;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;

namespace DefenseBench.Attacks.IlrgFamily;

/// <summary>
/// Simplified iLRG (the iLRG code's sim_iLRG): the set S of present classes is known, so both the unknowns and the
/// equations are restricted to S, an (|S|+1)×|S| system. The harness lends S from the ground truth (an assumption
/// of the threat model, declared as <see cref="AttackNeeds.KnownClasses"/>); the counts stay unknown.
/// </summary>
public sealed class IlrgSimplified(bool sumToBatch) : LastLayerAttack
{
    public override string Id => "ilrg-sim";
    public override AttackNeeds Needs => AttackNeeds.FcBias | AttackNeeds.KnownClasses;
    public override bool NeedsFcParameters => true;
    public bool SumToBatch { get; } = sumToBatch;

    public override int[] Recover(LastLayer layer) =>
        IlrgMath.Restore(layer.WeightGrad, layer.BiasGrad!, Ilrg.Required(layer.Weight, "weight"), Ilrg.Required(layer.Bias, "bias"),
            layer.BatchSize, layer.Labels, layer.KnownClasses ?? throw new NotApplicableException("ilrg-sim needs the set of classes present"), SumToBatch);
}
