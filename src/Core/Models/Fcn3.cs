using TorchSharp;
using TorchSharp.Modules;
using DefenseBench.Core.Data;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Models;

/// <summary>FCN-3 of iLRG: flatten–FC300–ReLU–FC300–ReLU–FC(C) (784-300-300-C on MNIST). PyTorch default init.</summary>
public sealed class Fcn3 : Classifier
{
    private readonly Linear fc1, fc2, fc;

    public Fcn3(ImageShape shape, int numClasses) : base(nameof(Fcn3), numClasses)
    {
        fc1 = Linear(shape.Size, 300);
        fc2 = Linear(300, 300);
        fc = Linear(300, numClasses);
        RegisterComponents();
    }

    public override Linear Fc => fc;

    public override Tensor Embed(Tensor x) =>
        functional.relu(fc2.call(functional.relu(fc1.call(x.flatten(1)))));

    public override void Initialize(Generator generator) => Init.PyTorchDefault(this, generator);
}
