using DefenseBench.Core.Data;
using DefenseBench.Core.Native;
using DefenseBench.Harness.Diagnostics;

namespace DefenseBench.Harness.Tests.Diagnostics;

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

        var deviations = GradientPrecision.Float32AgainstFloat64(modelId, channels == 1 ? ImageShape.Mnist : ImageShape.Cifar, batchSize);

        Assert.Contains(deviations, d => d.Parameter.StartsWith("fc.", StringComparison.Ordinal));
        Assert.All(deviations, d => Assert.True(d.Agrees, $"{modelId} {d.Parameter}: relative error {d.Relative:E2}"));
    }
}
