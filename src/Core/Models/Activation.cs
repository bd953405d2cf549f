using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Models;

/// <summary>
/// The hidden activation of a model family. iLRG's ablation (Ma et al. 2023, Table 1) swaps ReLU for SiLU ("LeNet-S")
/// or LeakyReLU (slope 0.01, PyTorch's default): both give negative embedding entries, which break the sign rules
/// of iDLG and GI but not iLRG.
/// </summary>
public enum Activation { Relu, Silu, LeakyRelu }

public static class Activations
{
    /// <summary>LeakyReLU's negative slope in the iLRG code (nn.LeakyReLU(negative_slope=0.01)).</summary>
    public const double LeakySlope = 0.01;

    // Kept alive by the class: functional.leaky_relu makes an implicit Scalar of the slope inside TorchSharp, which may
    // be finalised while libtorch still reads it.
    private static readonly Scalar LeakySlopeScalar = LeakySlope.ToScalar();

    public static Tensor Apply(this Activation activation, Tensor x) => activation switch
    {
        Activation.Silu => functional.silu(x),
        Activation.LeakyRelu => x.leaky_relu(LeakySlopeScalar),
        _ => functional.relu(x),
    };
}
