using TorchSharp;
using TorchSharp.Modules;
using DefenseBench.Core.Data;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Models;

/// <summary>
/// LeNet-5 as iLRG uses it: conv6(5×5)–pool–conv16(5×5)–pool–FC120–FC84–FC(C) with ReLU. 28×28 inputs are padded
/// by 2 in the first convolution so both 28×28 and 32×32 reach the 16×5×5 map. PyTorch default init.
/// </summary>
public sealed class LeNet5 : Classifier
{
    private readonly Conv2d conv1, conv2;
    private readonly Linear fc1, fc2, fc;

    public LeNet5(ImageShape shape, int numClasses) : base(nameof(LeNet5), numClasses)
    {
        int pad = shape.Height == 28 ? 2 : 0;
        conv1 = Conv2d(shape.Channels, 6, kernel_size: 5, padding: pad);
        conv2 = Conv2d(6, 16, kernel_size: 5);
        int h = ((shape.Height + 2 * pad - 4) / 2 - 4) / 2, w = ((shape.Width + 2 * pad - 4) / 2 - 4) / 2;
        fc1 = Linear(16 * h * w, 120);
        fc2 = Linear(120, 84);
        fc = Linear(84, numClasses);
        RegisterComponents();
    }

    public override Linear Fc => fc;

    public override Tensor Embed(Tensor x)
    {
        var h = functional.max_pool2d(functional.relu(conv1.call(x)), 2);
        h = functional.max_pool2d(functional.relu(conv2.call(h)), 2);
        h = functional.relu(fc1.call(h.flatten(1)));
        return functional.relu(fc2.call(h));
    }

    public override void Initialize(Generator generator) => Init.PyTorchDefault(this, generator);
}
