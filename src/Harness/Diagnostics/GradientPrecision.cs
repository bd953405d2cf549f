using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Diagnostics;

/// <summary>How far one parameter's float32 gradient is from its float64 reference: ‖g32 − g64‖ against ‖g64‖.</summary>
public sealed record GradientDeviation(string Parameter, double Error, double Size)
{
    public double Relative => Size > 0 ? Error / Size : Error;

    /// <summary>Within float32 precision of the reference (a tiny absolute floor for all-zero gradients).</summary>
    public bool Agrees => Error <= GradientPrecision.Tolerance * Size + 1e-9;
}

/// <summary>
/// Checks libtorch's gradients where they once went wrong: on some CPUs oneDNN's wide convolution kernels return
/// wrong input gradients (see <see cref="Core.Native.OneDnnGuard"/>). The float64 reference runs without oneDNN's float32
/// kernels, so a float32 gradient far from it points at the kernels, not at rounding. Used by tests and `doctor`.
/// </summary>
public static class GradientPrecision
{
    public const double Tolerance = 1e-4;

    /// <summary>Every parameter's deviation for one FedSGD gradient of <paramref name="modelId"/> on synthetic images, on the CPU.</summary>
    public static IReadOnlyList<GradientDeviation> Float32AgainstFloat64(string modelId, ImageShape shape, int batchSize)
    {
        using var scope = torch.NewDisposeScope();
        var dataset = new SyntheticImages("precision-check", shape, 10, 20, 2);
        var model = ModelCatalog.Create(modelId, shape, 10, 7, torch.CPU);
        var rng = new Rng(11);
        var batch = VictimRound.LoadBatch(dataset, Enumerable.Range(0, batchSize).Select(_ => rng.NextInt(10)).ToArray(), rng, torch.CPU);

        var single = LocalTraining.Gradient(model, batch);
        model.to(ScalarType.Float64);
        var reference = LocalTraining.Gradient(model, new Batch(batch.Images.to(ScalarType.Float64), batch.Labels));
        return single.Names.Select(name => new GradientDeviation(name,
            (single[name].to(ScalarType.Float64) - reference[name]).norm().item<double>(),
            reference[name].norm().item<double>())).ToArray();
    }
}
