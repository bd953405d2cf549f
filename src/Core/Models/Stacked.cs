using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Models;

/// <summary>
/// The layers of P independent copies of one architecture run as one graph, each copy with its own parameters stacked
/// along a new first dimension ([P, ...shape of the parameter]). Convolutions become one grouped convolution (groups =
/// P, computed as im2col and a batched matmul) over the copies' channels side by side ([B, P·C, H, W]);
/// fully-connected layers one batched matmul over [P, B, F].
/// Copy p's output, and so the gradient of a sum of per-copy losses with respect to its parameters, depends on copy p's
/// inputs and parameters only: the per-copy gradients equal P separate runs'. Gradient matching uses this to optimise
/// many reconstruction problems (restarts, seeds) at once.
/// </summary>
public static class Stacked
{
    // The alpha of the bias additions, kept alive by the class: TorchSharp's add(Tensor) would make an implicit Scalar
    // that may be finalised while libtorch still reads it.
    private static readonly Scalar One = 1.ToScalar();

    /// <summary>Images of P copies, [P, B, C, H, W], as one channel-stacked batch [B, P·C, H, W].</summary>
    public static Tensor ToChannels(Tensor x) => x.transpose(0, 1).flatten(1, 2);

    /// <summary>A channel-stacked map [B, P·C, H, W] back to per-copy feature vectors [P, B, C·H·W].</summary>
    public static Tensor ToFeatures(Tensor x, long copies) => x.reshape(x.shape[0], copies, -1).transpose(0, 1);

    /// <summary>
    /// A 2-D convolution of every copy with its own weight [P, out, in, k, k] and bias [P, out], as im2col and one batched
    /// matrix product: each copy's patches [in·k·k, B·L] (unfold; L output positions) times its weight [out, in·k·k].
    /// The same sums as a grouped convolution with groups = P, which libtorch's CPU kernels ran about a quarter slower
    /// through the double backward of gradient matching on the small maps of the LeNets (docs/attacks.md, batched
    /// problems); the patches cost in·k·k·L floats per image.
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor bias, long stride, long padding)
    {
        long copies = weight.shape[0], outputs = weight.shape[1], inputs = weight.shape[2], kernel = weight.shape[3];
        long batch = x.shape[0], height = x.shape[2], width = x.shape[3];
        long outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
        long patch = inputs * kernel * kernel, positions = outHeight * outWidth;
        // [B, P·in, H, W] → every copy's patches [P, in·k·k, B·L], batch-major within a copy.
        var patches = functional.unfold(x.reshape(batch * copies, inputs, height, width), kernel, padding: padding, stride: stride)
            .view(batch, copies, patch, positions).permute(1, 2, 0, 3).reshape(copies, patch, batch * positions);
        var y = weight.reshape(copies, outputs, patch).bmm(patches).add(bias.unsqueeze(2), One);
        return y.view(copies, outputs, batch, outHeight, outWidth).permute(2, 0, 1, 3, 4).reshape(batch, copies * outputs, outHeight, outWidth);
    }

    /// <summary>A fully-connected layer of every copy, x [P, B, in], weight [P, out, in], bias [P, out] → [P, B, out].</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor bias) => x.bmm(weight.transpose(1, 2)).add_(bias.unsqueeze(1), One);
}
