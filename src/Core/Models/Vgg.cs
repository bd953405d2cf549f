using TorchSharp;
using TorchSharp.Modules;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Models;

/// <summary>
/// VGG with batch norm as the iLRG code builds it for CIFAR: five stages of 3×3 conv–BN–ReLU (64, 128, 256, 512, 512
/// channels; <paramref name="stages"/> convolutions each), a 2×2 max-pool after each stage, then the classic head
/// FC4096–ReLU–FC4096–ReLU–FC(C) on the 512·(H/32)·(W/32) features (512 at 32×32). The head is kept at the paper's
/// width so the embedding is d = 4096 as in its VGG rows; dropout is off, as in the code's default. Kaiming-normal
/// convolutions, BN weight 1 and bias 0.
/// </summary>
public sealed class Vgg : Classifier
{
    private static readonly int[] Widths = [64, 128, 256, 512, 512];

    public static readonly int[] Vgg11 = [1, 1, 2, 2, 2];
    public static readonly int[] Vgg16 = [2, 2, 3, 3, 3];

    private readonly ModuleList<Conv2d> convs = new();
    private readonly ModuleList<CountedBatchNorm> norms = new();
    private readonly Linear fc1, fc2, fc;
    private readonly int[] _stages;

    public Vgg(ImageShape shape, int numClasses, int[] stages) : base(nameof(Vgg), numClasses)
    {
        if (shape.Height < 32 || shape.Width < 32)
            throw new InputException($"VGG pools five times and needs images of at least 32x32, not {shape}", "use a 3x32x32 dataset such as synthetic-cifar100");
        _stages = stages;
        int channels = shape.Channels;
        for (int s = 0; s < stages.Length; s++)
            for (int i = 0; i < stages[s]; i++)
            {
                convs.Add(Conv2d(channels, Widths[s], kernel_size: 3, padding: 1));
                norms.Add(CountedBatchNorm.Over2d(Widths[s]));
                channels = Widths[s];
            }
        int features = channels * (shape.Height >> stages.Length) * (shape.Width >> stages.Length);
        fc1 = Linear(features, 4096);
        fc2 = Linear(4096, 4096);
        fc = Linear(4096, numClasses);
        RegisterComponents();
    }

    public override Linear Fc => fc;
    public override bool HasBatchNorm => true;

    /// <summary>The last convolution's batch norm: the network is a chain, so every path to the head crosses it.</summary>
    public override string? DominatingBatchNorm => $"{nameof(norms)}.{norms.Count - 1}";

    public override Tensor Embed(Tensor x)
    {
        int layer = 0;
        foreach (int count in _stages)
        {
            for (int i = 0; i < count; i++, layer++)
                x = functional.relu(norms[layer].call(convs[layer].call(x)));
            x = functional.max_pool2d(x, 2);
        }
        return functional.relu(fc2.call(functional.relu(fc1.call(x.flatten(1)))));
    }

    public override void Initialize(Generator generator) => Init.KaimingConvolutions(this, generator);
}
