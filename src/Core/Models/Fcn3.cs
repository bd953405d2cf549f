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

    public override bool CanStack => true;

    public override Tensor ForwardStacked(Tensor x, IReadOnlyDictionary<string, Tensor> p)
    {
        var h = functional.relu(Stacked.Linear(x.flatten(2), p["fc1.weight"], p["fc1.bias"]));
        h = functional.relu(Stacked.Linear(h, p["fc2.weight"], p["fc2.bias"]));
        return Stacked.Linear(h, p["fc.weight"], p["fc.bias"]);
    }

    public override void Initialize(Generator generator) => Init.PyTorchDefault(this, generator);
}
