using TorchSharp;
using TorchSharp.Modules;
using DefenseBench.Core.Data;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Models;

/// <summary>
/// The LeNet of DLG and LLG ("CNN" in the LLG code): three 5×5 sigmoid convolutions with 12 channels (strides 2, 2, 1)
/// and one FC layer; hidden width 588 for 28×28 inputs and 768 for 32×32. All weights and biases U(−0.5, 0.5).
/// The sigmoid makes the embedding non-negative, which LLG's sign rule relies on.
/// </summary>
public sealed class DlgLeNet : Classifier
{
    private readonly Conv2d conv1, conv2, conv3;
    private readonly Linear fc;

    public DlgLeNet(ImageShape shape, int numClasses) : base(nameof(DlgLeNet), numClasses)
    {
        conv1 = Conv2d(shape.Channels, 12, kernel_size: 5, stride: 2, padding: 2);
        conv2 = Conv2d(12, 12, kernel_size: 5, stride: 2, padding: 2);
        conv3 = Conv2d(12, 12, kernel_size: 5, stride: 1, padding: 2);
        int h = Downsampled(Downsampled(shape.Height)), w = Downsampled(Downsampled(shape.Width));
        fc = Linear(12 * h * w, numClasses);
        RegisterComponents();
    }

    private static int Downsampled(int size) => (size + 2 * 2 - 5) / 2 + 1;

    public override Linear Fc => fc;

    public override Tensor Embed(Tensor x)
    {
        var h = functional.sigmoid(conv1.call(x));
        h = functional.sigmoid(conv2.call(h));
        h = functional.sigmoid(conv3.call(h));
        return h.flatten(1);
    }

    public override bool CanStack => true;

    public override Tensor ForwardStacked(Tensor x, IReadOnlyDictionary<string, Tensor> p)
    {
        var h = functional.sigmoid(Stacked.Conv2d(Stacked.ToChannels(x), p["conv1.weight"], p["conv1.bias"], 2, 2));
        h = functional.sigmoid(Stacked.Conv2d(h, p["conv2.weight"], p["conv2.bias"], 2, 2));
        h = functional.sigmoid(Stacked.Conv2d(h, p["conv3.weight"], p["conv3.bias"], 1, 2));
        return Stacked.Linear(Stacked.ToFeatures(h, x.shape[0]), p["fc.weight"], p["fc.bias"]);
    }

    public override void Initialize(Generator generator) => Init.UniformAll(this, -0.5, 0.5, generator);
}
