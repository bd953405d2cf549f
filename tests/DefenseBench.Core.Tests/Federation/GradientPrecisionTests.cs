using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Native;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Tests.Federation;

/// <summary>
/// Every attack trusts libtorch's gradients. On some CPUs oneDNN's wide convolution kernels return wrong input
/// gradients (see OneDnnGuard); these tests compare float32 gradients with float64 ones (computed without oneDNN)
/// and would fail on a machine where the guard is not enough.
/// </summary>
public sealed class GradientPrecisionTests
{
    [Theory]
    [InlineData("dlg-lenet", 1, 64)]
    [InlineData("lenet5", 3, 64)]
    [InlineData("fcn3", 1, 32)]
    [InlineData("lenet5-silu", 3, 32)]
    [InlineData("resnet18", 3, 4)]
    public void Float32_gradients_match_float64_in_every_layer(string modelId, int channels, int batchSize)
    {
        Assert.False(string.IsNullOrEmpty(Environment.GetEnvironmentVariable(OneDnnGuard.Variable)));
        using var scope = torch.NewDisposeScope();
        var shape = channels == 1 ? ImageShape.Mnist : ImageShape.Cifar;
        var dataset = new SyntheticImages("test", shape, 10, 20, 2);
        var model = ModelCatalog.Create(modelId, shape, 10, 7, torch.CPU);
        var rng = new Rng(11);
        var batch = VictimRound.LoadBatch(dataset, Enumerable.Range(0, batchSize).Select(_ => rng.NextInt(10)).ToArray(), rng, torch.CPU);

        var single = LocalTraining.Gradient(model, batch);
        model.to(ScalarType.Float64);
        var reference = LocalTraining.Gradient(model, new Batch(batch.Images.to(ScalarType.Float64), batch.Labels));

        foreach (string name in single.Names)
        {
            var error = (single[name].to(ScalarType.Float64) - reference[name]).norm().item<double>();
            var size = reference[name].norm().item<double>();
            Assert.True(error <= 1e-4 * size + 1e-9, $"{modelId} {name}: relative error {error / size:E2}");
        }
    }
}
