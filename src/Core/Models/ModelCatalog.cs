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
        .Add("lenet5-silu", "LeNet-S: LeNet-5 with SiLU (negative embedding entries; iLRG's ablation)",
            _ => (shape, c) => new LeNet5(shape, c, Activation.Silu))
        .Add("lenet5-leaky", "LeNet-5 with LeakyReLU (slope 0.01; iLRG's ablation)", _ => (shape, c) => new LeNet5(shape, c, Activation.LeakyRelu))
        .Add("lenet5-bn", "LeNet-5 with a BatchNorm1d before the head: ...-FC84-BN-ReLU-FC(C) (the fishing attack's model)",
            _ => (shape, c) => new LeNet5(shape, c, headNorm: true))
        .Add("fcn3", "FCN-3: FC300-ReLU-FC300-ReLU-FC(C) on flattened pixels", _ => (shape, c) => new Fcn3(shape, c))
        .Add("vgg11-bn", "VGG-11 with batch norm, head FC4096-FC4096-FC(C) (d = 4096); needs 32x32 or larger",
            _ => (shape, c) => new Vgg(shape, c, Vgg.Vgg11))
        .Add("vgg16-bn", "VGG-16 with batch norm, head FC4096-FC4096-FC(C) (d = 4096); needs 32x32 or larger",
            _ => (shape, c) => new Vgg(shape, c, Vgg.Vgg16))
        .Add("resnet18", "ResNet-18, CIFAR style (3x3 stride-1 stem, no max-pool), global average pool (d = 512)",
            _ => (shape, c) => new ResNet18(shape, c))
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
