using System.Diagnostics;
using System.Globalization;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses;
using DefenseBench.Defenses.Privacy;
using DefenseBench.Harness.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Bench;

/// <summary>One batch size's timings (medians): the plain batch gradient, DP-SGD's, and a loop of one backward pass per example.</summary>
public sealed record DpSgdTiming(int BatchSize, double PlainMs, double DpSgdMs, double LoopMs, double MaxRelativeError)
{
    public double Ratio => DpSgdMs / PlainMs;
}

/// <summary>
/// Times one DP-SGD gradient (per-example gradients from layer hooks, clipping, noise, mean) against the plain
/// mean-loss gradient of the same batch, and against the obvious alternative without vmap (B separate backward
/// passes); checks that the clipped sum with a huge clip equals B times the plain gradient.
/// </summary>
public static class DpSgdBench
{
    // Every Scalar below is explicit and kept alive (by `using`, or by the class): an implicit one, including the alpha
    // of `a + b` and the exponent of square() that TorchSharp makes inside, may be finalised while libtorch reads it.
    private static readonly Scalar One = 1.ToScalar(), Two = 2.ToScalar();

    public static IEnumerable<DpSgdTiming> Run(string dataset, string model, IReadOnlyList<int> batchSizes, int runs, double clip, double z, Device device)
    {
        var data = DatasetCatalog.Open(dataset);
        foreach (int batchSize in batchSizes)
        {
            using var scope = torch.NewDisposeScope();
            var classifier = ModelCatalog.Create(model, data.Shape, data.NumClasses, 1, device);
            var parameters = classifier.parameters().ToArray();
            var rng = new Rng(7);
            var batch = VictimRound.LoadBatch(data, Enumerable.Range(0, batchSize).Select(_ => rng.NextInt(data.NumClasses)).ToArray(), rng, device);
            var dpsgd = DefenseCatalog.DpSgd(clip, z).Gradient(new Rng(9));

            // Interleaved, so that load from other processes hits both alike.
            var medians = Medians(runs,
                () => LocalTraining.MeanLossGradient(classifier, parameters, batch),
                () => dpsgd(classifier, parameters, batch));
            double loop = Medians(Math.Max(1, runs / 10), () => Loop(classifier, parameters, batch, clip))[0];

            using var check = torch.NewDisposeScope();
            var sum = PerExampleGradients.ClippedSum(classifier, parameters, batch, 1e30);
            var mean = LocalTraining.MeanLossGradient(classifier, parameters, batch);
            using var size = batchSize.ToScalar();
            using var tiny = 1e-12.ToScalar();
            double error = sum.Zip(mean, (s, m) => ((s / size - m).abs().max() / m.abs().max().add(tiny, One)).item<float>()).Max();
            yield return new DpSgdTiming(batchSize, medians[0], medians[1], loop, error);
        }
    }

    /// <summary>The reference without hooks: one backward pass per example, each clipped, summed.</summary>
    private static Tensor[] Loop(Classifier model, Tensor[] parameters, Batch batch, double clip)
    {
        var sums = parameters.Select(p => torch.zeros_like(p)).ToArray();
        using var clipNorm = clip.ToScalar();
        using var epsilon = 1e-6.ToScalar();
        using var one = 1.0.ToScalar();
        for (int k = 0; k < batch.Labels.shape[0]; k++)
        {
            var g = LocalTraining.MeanLossGradient(model, parameters, new Batch(batch.Images.narrow(0, k, 1), batch.Labels.narrow(0, k, 1)));
            var norm = g.Select(t => t.pow(Two).sum()).Aggregate((a, b) => a.add(b, One)).sqrt();
            var factor = (clipNorm / norm.add(epsilon, One)).clamp_max(one);
            for (int i = 0; i < sums.Length; i++) sums[i].add_(g[i] * factor, One);
        }
        return sums;
    }

    /// <summary>
    /// Median wall time of each piece of work over <paramref name="runs"/> rounds that run every piece once in turn
    /// (after one warm-up round), each call in its own dispose scope.
    /// </summary>
    private static double[] Medians(int runs, params Func<Tensor[]>[] works)
    {
        var times = works.Select(_ => new List<double>()).ToArray();
        for (int r = -1; r < runs; r++)
        {
            for (int w = 0; w < works.Length; w++)
            {
                using var scope = torch.NewDisposeScope();
                var clock = Stopwatch.StartNew();
                var result = works[w]();
                _ = result[^1].sum().item<float>(); // wait for the device
                if (r >= 0) times[w].Add(clock.Elapsed.TotalMilliseconds);
            }
        }
        return times.Select(Timing.Median).ToArray();
    }

    public static string Table(IEnumerable<DpSgdTiming> rows)
    {
        var lines = new List<string> { "batch  plain_ms  dpsgd_ms  ratio  loop_ms  loop_ratio  max_rel_error" };
        foreach (var r in rows)
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{r.BatchSize,5}  {r.PlainMs,8:F2}  {r.DpSgdMs,8:F2}  {r.Ratio,4:F2}x  {r.LoopMs,7:F1}  {r.LoopMs / r.PlainMs,9:F1}x  {r.MaxRelativeError,13:E1}"));
        return string.Join("\n", lines) + "\n";
    }
}
