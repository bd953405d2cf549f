using TorchSharp;
using TorchSharp.Modules;
using DefenseBench.Core.Data;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Models;

/// <summary>
/// LeNet-5 as iLRG uses it: conv6(5×5)–pool–conv16(5×5)–pool–FC120–FC84–FC(C), with ReLU, or SiLU ("LeNet-S") or
/// LeakyReLU for the activation ablation. 28×28 inputs are padded by 2 in the first convolution so both 28×28 and
/// 32×32 reach the 16×5×5 map. Convolutions get Kaiming-normal (fan-out, ReLU gain) weights as in the iLRG code's
/// models.py; the linear layers keep PyTorch's default.
/// With <c>headNorm</c> ("lenet5-bn") a BatchNorm1d sits between FC84 and its activation: FC84–BN–act–FC(C). Every
/// path to the head crosses it, so it is the layer a fishing server rewrites, and it sets the embedding directly (d = 84).
/// </summary>
public sealed class LeNet5 : Classifier
{
    private readonly Conv2d conv1, conv2;
    // Declaration order is registration order, so the parameters run conv1 … fc2, bn, fc (fc last: attacks' convention).
    private readonly Linear fc1, fc2;
    private readonly CountedBatchNorm? bn;
    private readonly Linear fc;
    private readonly Activation _activation;
    private readonly int _pad;

    public LeNet5(ImageShape shape, int numClasses, Activation activation = Activation.Relu, bool headNorm = false) : base(nameof(LeNet5), numClasses)
    {
        _activation = activation;
        int pad = shape.Height == 28 ? 2 : 0;
        _pad = pad;
        conv1 = Conv2d(shape.Channels, 6, kernel_size: 5, padding: pad);
        conv2 = Conv2d(6, 16, kernel_size: 5);
        int h = ((shape.Height + 2 * pad - 4) / 2 - 4) / 2, w = ((shape.Width + 2 * pad - 4) / 2 - 4) / 2;
        fc1 = Linear(16 * h * w, 120);
        fc2 = Linear(120, 84);
        if (headNorm) bn = CountedBatchNorm.Over1d(84);
        fc = Linear(84, numClasses);
        RegisterComponents();
    }

    public override Linear Fc => fc;

    public override bool HasBatchNorm => bn != null;

    public override string? DominatingBatchNorm => bn == null ? null : nameof(bn);

    public override Tensor Embed(Tensor x)
    {
        var h = functional.max_pool2d(_activation.Apply(conv1.call(x)), 2);
        h = functional.max_pool2d(_activation.Apply(conv2.call(h)), 2);
        h = _activation.Apply(fc1.call(h.flatten(1)));
        h = fc2.call(h);
        return _activation.Apply(bn == null ? h : bn.call(h));
    }

    public override bool CanStack => bn == null;

    public override Tensor ForwardStacked(Tensor x, IReadOnlyDictionary<string, Tensor> p)
    {
        if (bn != null) return base.ForwardStacked(x, p);
        var h = functional.max_pool2d(_activation.Apply(Stacked.Conv2d(Stacked.ToChannels(x), p["conv1.weight"], p["conv1.bias"], 1, _pad)), 2);
        h = functional.max_pool2d(_activation.Apply(Stacked.Conv2d(h, p["conv2.weight"], p["conv2.bias"], 1, 0)), 2);
        h = _activation.Apply(Stacked.Linear(Stacked.ToFeatures(h, x.shape[0]), p["fc1.weight"], p["fc1.bias"]));
        h = _activation.Apply(Stacked.Linear(h, p["fc2.weight"], p["fc2.bias"]));
        return Stacked.Linear(h, p["fc.weight"], p["fc.bias"]);
    }

    public override void Initialize(Generator generator) => Init.KaimingConvolutions(this, generator);
}
