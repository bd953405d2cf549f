using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Defenses.Tests;

/// <summary>Random uploads and bit-level comparisons shared by the defence tests.</summary>
internal static class TestUpdates
{
    public static readonly (string Name, long[] Shape)[] Layout =
        [("conv.weight", [4, 1, 3, 3]), ("conv.bias", [4]), ("fc.weight", [10, 16]), ("fc.bias", [10])];

    /// <summary>An upload of <paramref name="layout"/> (default: <see cref="Layout"/>) whose entries are U(−scale, scale) from <paramref name="rng"/>.</summary>
    public static Update Random(Rng rng, double scale = 1.0, UpdateKind kind = UpdateKind.Gradient, (string Name, long[] Shape)[]? layout = null) => new(kind,
        (layout ?? Layout).Select(l => (l.Name, torch.tensor(
            Enumerable.Range(0, (int)l.Shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)rng.Uniform(-scale, scale)).ToArray(), l.Shape))));

    public static float[] Values(Tensor t) => t.contiguous().cpu().data<float>().ToArray();

    /// <summary>Same names, shapes and float bits in every tensor (−0 and +0 differ, NaNs compare by payload).</summary>
    public static bool BitIdentical(Update a, Update b) =>
        a.Kind == b.Kind && a.Names.SequenceEqual(b.Names) &&
        a.Tensors.Zip(b.Tensors).All(p => p.First.shape.SequenceEqual(p.Second.shape) &&
            Values(p.First).Select(BitConverter.SingleToInt32Bits).SequenceEqual(Values(p.Second).Select(BitConverter.SingleToInt32Bits)));

    public static double Norm(IEnumerable<Tensor> tensors) => Math.Sqrt(tensors.Sum(t => t.to(ScalarType.Float64).square().sum().item<double>()));

    /// <summary>Sample standard deviation of every entry of every tensor.</summary>
    public static double Std(IEnumerable<Tensor> tensors)
    {
        var v = tensors.SelectMany(t => Values(t).Select(x => (double)x)).ToArray();
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
    }
}
