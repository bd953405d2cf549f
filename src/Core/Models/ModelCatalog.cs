using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Models;

/// <summary>Builds a classifier for an image shape and class count.</summary>
public delegate Classifier ModelFactory(ImageShape shape, int numClasses);

/// <summary>The model zoo by canonical id. Adding a model = one file + one line here.</summary>
public static class ModelCatalog
{
    public static readonly Catalog<ModelFactory> All = new Catalog<ModelFactory>()
        .Add("dlg-lenet", "DLG/LLG LeNet: 3 sigmoid convs (12 ch) + FC, U(-0.5, 0.5) init; hidden 588 (28x28) or 768 (32x32)",
            _ => (shape, c) => new DlgLeNet(shape, c))
        .Add("lenet5", "LeNet-5 with ReLU: conv6-pool-conv16-pool-FC120-FC84-FC(C)", _ => (shape, c) => new LeNet5(shape, c))
        .Add("fcn3", "FCN-3: FC300-ReLU-FC300-ReLU-FC(C) on flattened pixels", _ => (shape, c) => new Fcn3(shape, c))
        .Add("mlp2", "DLM's MLP2: FC32-ReLU-FC(C) on flattened pixels, U(-0.5, 0.5) init", _ => (shape, c) => new Mlp2(shape, c));

    /// <summary>A model initialised from <paramref name="seed"/> on <paramref name="device"/>.</summary>
    public static Classifier Create(string id, ImageShape shape, int numClasses, long seed, Device device)
    {
        var model = All.Get(id).CreateDefault()(shape, numClasses);
        using (var generator = new Generator((ulong)seed, torch.CPU))
            model.Initialize(generator);
        model.to(device);
        return model;
    }
}
