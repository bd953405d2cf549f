using DefenseBench.Attacks.Common;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;

namespace DefenseBench.Attacks.IlrgFamily;

/// <summary>
/// iLRG: instance-wise label restoration from the FC weight and bias gradients and the FC parameters (docs/attacks.md,
/// iLRG). Needs the bias; no sign assumption on the embeddings, so SiLU and LeakyReLU models are fine. Scored on the
/// rounded counts; <paramref name="sumToBatch"/> applies the (fixed) correction that makes them sum to B·U.
/// </summary>
public sealed class Ilrg(bool sumToBatch) : LastLayerAttack
{
    public override string Id => "ilrg";
    public override AttackNeeds Needs => AttackNeeds.FcBias;
    public override bool NeedsFcParameters => true;
    public bool SumToBatch { get; } = sumToBatch;

    public override int[] Recover(LastLayer layer) =>
        IlrgMath.Restore(layer.WeightGrad, layer.BiasGrad!, Required(layer.Weight, "weight"), Required(layer.Bias, "bias"),
            layer.BatchSize, layer.Labels, known: null, SumToBatch);

    internal static TorchSharp.torch.Tensor Required(TorchSharp.torch.Tensor? parameter, string what) =>
        parameter ?? throw new NotApplicableException($"iLRG needs the FC {what} the gradient was taken at");
}
