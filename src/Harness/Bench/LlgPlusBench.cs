using System.Diagnostics;
using System.Globalization;
using DefenseBench.Attacks.Common;
using DefenseBench.Attacks.LlgFamily;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Data;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Core.Randomness;
using DefenseBench.Harness.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Bench;

/// <summary>One batch size's timings: the batched closed form (median of runs) against one autograd pass per batch.</summary>
public sealed record LlgPlusTiming(int BatchSize, double BatchedMs, double? ReferenceMs, bool? SameCounts, double Asr);

/// <summary>
/// Times LLG+'s whole attack (auxiliary pool, impact/offset estimation, extraction) with the batched closed-form
/// estimator, and optionally with the reference estimator (n·C separate forward/backward passes, as the LLG code
/// does), on the same victims and the same auxiliary draws, and checks both recover the same counts.
/// </summary>
public static class LlgPlusBench
{
    public static IEnumerable<LlgPlusTiming> Run(string dataset, string model, int classes, IReadOnlyList<int> batchSizes, int auxPerClass,
        int runs, bool reference, Device device)
    {
        var data = DatasetCatalog.Open(dataset, DatasetCatalog.IsSynthetic(dataset) ? classes : null);
        foreach (int batch in batchSizes)
        {
            using var scope = torch.NewDisposeScope();
            var spec = new ScenarioSpec(dataset, data.NumClasses, model, batch, LabelDistribution.NonIid, 1, new FedSgd(), TrainingStage.Untrained);
            var round = VictimRound.Create(spec, data, 0, device);
            var view = DefensePipeline.None.View(round.Model, round.Uploads(), round.Info, new Rng(1));
            var layer = LastLayer.From(view.ClientUpdates![0], batch, spec.Protocol);
            int[] Attack(Estimator estimator) => new LlgPlus(10, auxPerClass, estimator)
                .Recover(layer, view, new AttackContext(device, new Rng(7), new DatasetAuxiliary(data, data.NumClasses)));

            Attack(Estimator.Batched); // warm-up: first-call allocation and kernel selection
            var times = new List<double>();
            int[] counts = [];
            for (int r = 0; r < runs; r++)
            {
                var clock = Stopwatch.StartNew();
                counts = Attack(Estimator.Batched);
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
            double? referenceMs = null;
            bool? same = null;
            if (reference)
            {
                var clock = Stopwatch.StartNew();
                var referenceCounts = Attack(Estimator.Autograd);
                referenceMs = clock.Elapsed.TotalMilliseconds;
                same = referenceCounts.SequenceEqual(counts);
            }
            yield return new LlgPlusTiming(batch, Timing.Median(times), referenceMs, same, LabelMetrics.Asr(counts, round.Clients[0].TrueCounts));
        }
    }

    public static string Table(IEnumerable<LlgPlusTiming> rows)
    {
        var lines = new List<string> { "batch  batched_ms  reference_ms  speedup  same_counts  asr" };
        foreach (var r in rows)
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{r.BatchSize,5}  {r.BatchedMs,10:F0}  {(r.ReferenceMs is { } m ? m.ToString("F0", CultureInfo.InvariantCulture) : "-"),12}  " +
                $"{(r.ReferenceMs is { } m2 ? (m2 / r.BatchedMs).ToString("F1", CultureInfo.InvariantCulture) + "x" : "-"),7}  {(r.SameCounts is { } s ? (s ? "yes" : "NO") : "-"),11}  {r.Asr:F3}"));
        return string.Join("\n", lines) + "\n";
    }
}
