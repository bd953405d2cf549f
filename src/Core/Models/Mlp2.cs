using TorchSharp;
using TorchSharp.Modules;
using DefenseBench.Core.Data;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Models;

/// <summary>
/// MLP2 of DLM (Zhao, Luo, Ding 2022; code models/vision.py): flatten–FC32–ReLU–FC(C). Its xavier init is overwritten
/// by U(−0.5, 0.5) on every weight and bias in the DLM code, so that is the init here.
/// </summary>
public sealed class Mlp2 : Classifier
{
    private readonly Linear fc1, fc;

    public Mlp2(ImageShape shape, int numClasses) : base(nameof(Mlp2), numClasses)
    {
        fc1 = Linear(shape.Size, 32);
        fc = Linear(32, numClasses);
        RegisterComponents();
    }

    public override Linear Fc => fc;

    public override Tensor Embed(Tensor x) => functional.relu(fc1.call(x.flatten(1)));

    public override bool CanStack => true;

    public override Tensor ForwardStacked(Tensor x, IReadOnlyDictionary<string, Tensor> p) =>
        Stacked.Linear(functional.relu(Stacked.Linear(x.flatten(2), p["fc1.weight"], p["fc1.bias"])), p["fc.weight"], p["fc.bias"]);

    public override void Initialize(Generator generator) => Init.UniformAll(this, -0.5, 0.5, generator);
}
