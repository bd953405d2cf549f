using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Models;

/// <summary>Parameter initialisers that draw from an explicit generator, so a model is a function of its seed.</summary>
public static class Init
{
    /// <summary>Every parameter of <paramref name="module"/> from U(low, high) (the DLG LeNet's init).</summary>
    public static void UniformAll(Module module, double low, double high, Generator generator)
    {
        using var _ = torch.no_grad();
        foreach (var (_, p) in module.named_parameters()) p.uniform_(low, high, generator);
    }

    /// <summary>
    /// PyTorch's default for Conv and Linear layers: kaiming_uniform(a = √5) for weights, which is U(±1/√fan_in), and
    /// U(±1/√fan_in) for biases. Batch-norm layers get weight 1 and bias 0.
    /// </summary>
    public static void PyTorchDefault(Module module, Generator generator)
    {
        using var _ = torch.no_grad();
        // Explicit and kept alive: an implicit Scalar may be finalised while libtorch still reads it.
        using var one = 1.0.ToScalar();
        foreach (var (_, child) in module.named_modules())
        {
            switch (child)
            {
                case Conv2d conv: FanIn(conv.weight!, conv.bias, generator); break;
                case Linear linear: FanIn(linear.weight!, linear.bias, generator); break;
                case BatchNorm bn:
                    bn.weight!.fill_(one);
                    bn.bias!.zero_();
                    break;
            }
        }
    }

    /// <summary>
    /// The init of the iLRG code's LeNet-5, VGG and ResNet (torchvision style): PyTorch's default, then every
    /// convolution weight from N(0, 2 / fan_out) (kaiming_normal_, mode fan_out, ReLU gain √2).
    /// </summary>
    public static void KaimingConvolutions(Module module, Generator generator)
    {
        PyTorchDefault(module, generator);
        using var _ = torch.no_grad();
        foreach (var (_, child) in module.named_modules())
        {
            if (child is not Conv2d conv) continue;
            var weight = conv.weight!;
            long fanOut = weight.shape[0] * weight.shape.Skip(2).Aggregate(1L, (a, b) => a * b);
            weight.normal_(0, Math.Sqrt(2.0 / fanOut), generator);
        }
    }

    private static void FanIn(Tensor weight, Tensor? bias, Generator generator)
    {
        long fanIn = weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        double bound = 1.0 / Math.Sqrt(fanIn);
        weight.uniform_(-bound, bound, generator);
        bias?.uniform_(-bound, bound, generator);
    }
}
