using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Models;

/// <summary>
/// The layers of P independent copies of one architecture run as one graph, each copy with its own parameters stacked
/// along a new first dimension ([P, ...shape of the parameter]). Convolutions become one grouped convolution (groups =
/// P) over the copies' channels side by side ([B, P·C, H, W]); fully-connected layers one batched matmul over [P, B, F].
/// Copy p's output, and so the gradient of a sum of per-copy losses with respect to its parameters, depends on copy p's
/// inputs and parameters only: the per-copy gradients equal P separate runs'. Gradient matching uses this to optimise
/// many reconstruction problems (restarts, seeds) at once.
/// </summary>
public static class Stacked
{
    /// <summary>Images of P copies, [P, B, C, H, W], as one channel-stacked batch [B, P·C, H, W].</summary>
    public static Tensor ToChannels(Tensor x) => x.transpose(0, 1).flatten(1, 2);

    /// <summary>A channel-stacked map [B, P·C, H, W] back to per-copy feature vectors [P, B, C·H·W].</summary>
    public static Tensor ToFeatures(Tensor x, long copies) => x.reshape(x.shape[0], copies, -1).transpose(0, 1);

    /// <summary>A 2-D convolution of every copy with its own weight [P, out, in, k, k] and bias [P, out].</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor bias, long stride, long padding)
    {
        long copies = weight.shape[0];
        return functional.conv2d(x, weight.flatten(0, 1), bias.flatten(), strides: [stride, stride], padding: [padding, padding], groups: copies);
    }

    /// <summary>A fully-connected layer of every copy, x [P, B, in], weight [P, out, in], bias [P, out] → [P, B, out].</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor bias) => x.bmm(weight.transpose(1, 2)).add_(bias.unsqueeze(1));
}
