using TorchSharp;
using TorchSharp.Modules;
using DefenseBench.Core.Data;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Models;

/// <summary>
/// ResNet-18 in the CIFAR style of Inverting Gradients and iLRG: a 3×3 stride-1 stem (no bias) with BN and ReLU and
/// no max-pool, four stages of two basic blocks (64, 128, 256, 512 channels; strides 1, 2, 2, 2), global average
/// pooling to the d = 512 embedding, FC(C). Kaiming-normal convolutions, BN weight 1 and bias 0.
/// </summary>
public sealed class ResNet18 : Classifier
{
    private readonly Conv2d conv1;
    private readonly CountedBatchNorm bn1;
    private readonly ModuleList<BasicBlock> blocks = new();
    private readonly Linear fc;

    public ResNet18(ImageShape shape, int numClasses) : base(nameof(ResNet18), numClasses)
    {
        conv1 = Conv2d(shape.Channels, 64, kernel_size: 3, stride: 1, padding: 1, bias: false);
        bn1 = CountedBatchNorm.Over2d(64);
        int inPlanes = 64;
        foreach (var (planes, stride) in new[] { (64, 1), (128, 2), (256, 2), (512, 2) })
        {
            blocks.Add(new BasicBlock(inPlanes, planes, stride));
            blocks.Add(new BasicBlock(planes, planes, 1));
            inPlanes = planes;
        }
        fc = Linear(512, numClasses);
        RegisterComponents();
    }

    public override Linear Fc => fc;
    public override bool HasBatchNorm => true;

    /// <summary>
    /// The stem's batch norm: every block, and so every path to the head, starts from its output. (The last block's
    /// own norms do not qualify: its identity shortcut bypasses them.)
    /// </summary>
    public override string? DominatingBatchNorm => nameof(bn1);

    public override Tensor Embed(Tensor x)
    {
        x = functional.relu(bn1.call(conv1.call(x)));
        foreach (var block in blocks) x = block.call(x);
        return functional.adaptive_avg_pool2d(x, 1).flatten(1);
    }

    public override void Initialize(Generator generator) => Init.KaimingConvolutions(this, generator);
}

/// <summary>torchvision's BasicBlock: conv3×3–BN–ReLU–conv3×3–BN plus the shortcut (1×1 conv–BN when the shape changes), ReLU.</summary>
internal sealed class BasicBlock : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly CountedBatchNorm bn1, bn2;
    private readonly Sequential? downsample;
    // Kept alive by the class: `a + b` would make an implicit alpha of 1 inside TorchSharp that may be finalised while
    // libtorch still reads it.
    private static readonly Scalar One = 1.ToScalar();

    public BasicBlock(int inPlanes, int planes, int stride) : base(nameof(BasicBlock))
    {
        conv1 = Conv2d(inPlanes, planes, kernel_size: 3, stride: stride, padding: 1, bias: false);
        bn1 = CountedBatchNorm.Over2d(planes);
        conv2 = Conv2d(planes, planes, kernel_size: 3, stride: 1, padding: 1, bias: false);
        bn2 = CountedBatchNorm.Over2d(planes);
        if (stride != 1 || inPlanes != planes)
            downsample = Sequential(Conv2d(inPlanes, planes, kernel_size: 1, stride: stride, bias: false), CountedBatchNorm.Over2d(planes));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = functional.relu(bn1.call(conv1.call(x)));
        h = bn2.call(conv2.call(h));
        return functional.relu(h.add(downsample?.call(x) ?? x, One));
    }
}
