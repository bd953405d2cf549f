using DefenseBench.Attacks.Common;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Federation;

namespace DefenseBench.Attacks.LlgFamily;

/// <summary>LLG+: white-box model plus auxiliary images of every class from the training distribution.</summary>
public sealed class LlgPlus(int repeats, int auxPerClass, Estimator estimator, LlgScaling scaling = LlgScaling.Sum, bool adaptive = false)
    : ModelBasedLlg(repeats, estimator, scaling, adaptive)
{
    public override string Id => "llg-plus";
    public override AttackNeeds Needs => AttackNeeds.AuxiliaryData;
    protected override bool SortAndTruncate => true;

    protected override EstimationData Data(LastLayer layer, ServerView view, AttackContext context)
    {
        var aux = context.Auxiliary ?? throw new NotApplicableException("llg-plus needs auxiliary data and none was given");
        var (pool, labels) = aux.Pool(auxPerClass, context.Rng, context.Device);
        return new AuxiliaryDraws(pool, labels, layer.NumClasses, layer.BatchSize, Repeats, context.Rng);
    }
}
