using System.Diagnostics;
using System.Globalization;
using DefenseBench.Attacks;
using DefenseBench.Attacks.Reconstruction;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Core.Randomness;
using DefenseBench.Harness.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Bench;

/// <summary>
/// One attack and batch size: optimiser steps and closure evaluations per second (median over runs), the share of
/// the time spent inside autograd (the dummy gradient with create_graph and the backward of the matching loss),
/// and the mean PSNR the runs reached.
/// </summary>
public sealed record ReconstructionTiming(string Attack, int BatchSize, int Steps, double Evaluations, double StepsPerSecond,
    double EvaluationsPerSecond, double AutogradShare, double Psnr);

/// <summary>
/// Times the gradient-matching attacks as the harness runs them (catalog defaults, a fixed number of optimiser steps)
/// on the undefended FedAvg upload of one victim per run, so iterations per second are comparable across B.
/// </summary>
public static class ReconstructionBench
{
    public static IEnumerable<ReconstructionTiming> Run(string dataset, string model, IReadOnlyList<string> attacks, IReadOnlyList<int> batchSizes,
        int steps, int runs, Device device)
    {
        var data = DatasetCatalog.Open(dataset);
        foreach (string id in attacks)
            foreach (int batch in batchSizes)
            {
                var spec = new ScenarioSpec(dataset, data.NumClasses, model, batch, LabelDistribution.Iid, 1, new FedAvg(1, 0.01), TrainingStage.Untrained);
                var measured = Enumerable.Range(0, runs + 1).Select(run => Once(id, spec, data, run, steps, device)).Skip(1).ToArray(); // run 0 warms up
                yield return new ReconstructionTiming(id, batch, steps, measured.Average(m => m.Evaluations),
                    steps / Timing.Median(measured.Select(m => m.Seconds).ToArray()), Timing.Median(measured.Select(m => m.Evaluations / m.Seconds).ToArray()),
                    measured.Sum(m => m.Autograd) / measured.Sum(m => m.Seconds), measured.Average(m => m.Psnr));
            }
    }

    private static (double Seconds, double Autograd, int Evaluations, double Psnr) Once(string id, ScenarioSpec spec, IImageDataset data, int trial,
        int steps, Device device)
    {
        using var scope = torch.NewDisposeScope();
        var round = VictimRound.Create(spec, data, trial, device);
        var view = DefensePipeline.None.View(round.Model, round.Uploads(), round.Info, new Rng(1));
        var info = AttackCatalog.All.Get(id);
        var attack = (ReconstructionAttack)info.Create(ParameterValues.Create(info.Parameters, new Dictionary<string, object> { ["iterations"] = steps }));
        var clock = new MatchClock();
        attack.Clock = clock;
        long start = Stopwatch.GetTimestamp();
        var outcome = attack.Run(view, new AttackContext(device, Rng.For(round.Seed, "attack")));
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var scores = ImageMetrics.MatchAndScore(outcome.Images[0].Images, round.Clients[0].StepBatches[0].Images.PerImage(), data.Shape);
        return (seconds, clock.Autograd.TotalSeconds, clock.Evaluations, scores.Average(s => Math.Min(s.Psnr, ImageMetrics.PsnrCeiling)));
    }

    public static string Table(IEnumerable<ReconstructionTiming> rows)
    {
        var lines = new List<string> { "attack    batch  steps  evals  steps/s  evals/s  autograd  psnr" };
        foreach (var r in rows)
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{r.Attack,-8}  {r.BatchSize,5}  {r.Steps,5}  {r.Evaluations,5:F0}  {r.StepsPerSecond,7:F2}  {r.EvaluationsPerSecond,7:F1}  {r.AutogradShare,8:P0}  {r.Psnr,4:F1}"));
        return string.Join("\n", lines) + "\n";
    }
}
