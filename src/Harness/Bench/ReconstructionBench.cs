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
/// One attack, batch size and number P of problems solved together: problem-steps per second (P × optimiser steps per
/// wall second, median over runs) and problem-evaluations per second, the speedup over P = 1, the share of the time
/// spent inside autograd (the dummy gradients with create_graph and the backward of the matching loss), and the mean
/// PSNR the problems reached.
/// </summary>
public sealed record ReconstructionTiming(string Attack, int BatchSize, int Problems, int Steps, double Evaluations, double ProblemStepsPerSecond,
    double EvaluationsPerSecond, double Speedup, double AutogradShare, double Psnr);

/// <summary>
/// Times the gradient-matching attacks as the harness runs them (catalog defaults, one restart, a fixed number of
/// optimiser steps) on the undefended FedAvg uploads of P victims at once (P seeds of one cell: P models, so the
/// problems run with stacked per-problem weights), so rates are comparable across B and P.
/// </summary>
public static class ReconstructionBench
{
    public static IEnumerable<ReconstructionTiming> Run(string dataset, string model, IReadOnlyList<string> attacks, IReadOnlyList<int> batchSizes,
        IReadOnlyList<int> problems, int steps, int runs, Device device)
    {
        var data = DatasetCatalog.Open(dataset);
        foreach (string id in attacks)
            foreach (int batch in batchSizes)
            {
                var spec = new ScenarioSpec(dataset, data.NumClasses, model, batch, LabelDistribution.Iid, 1, new FedAvg(1, 0.01), TrainingStage.Untrained);
                double single = double.NaN;
                foreach (int p in problems)
                {
                    // Run 0 warms up; every run attacks other victims.
                    var measured = Enumerable.Range(0, runs + 1).Select(run => Once(id, spec, data, run, p, steps, device)).Skip(1).ToArray();
                    double rate = p * steps / Timing.Median(measured.Select(m => m.Seconds).ToArray());
                    if (p == 1) single = rate;
                    yield return new ReconstructionTiming(id, batch, p, steps, measured.Average(m => m.Evaluations),
                        rate, Timing.Median(measured.Select(m => m.Evaluations / m.Seconds).ToArray()), rate / single,
                        measured.Sum(m => m.Autograd) / measured.Sum(m => m.Seconds), measured.Average(m => m.Psnr));
                }
            }
    }

    /// <summary>One timed attack on P victims; Evaluations counts problem-evaluations (each closure counts the problems it computed).</summary>
    private static (double Seconds, double Autograd, long Evaluations, double Psnr) Once(string id, ScenarioSpec spec, IImageDataset data, int run,
        int problems, int steps, Device device)
    {
        using var scope = torch.NewDisposeScope();
        var rounds = Enumerable.Range(run * problems, problems).Select(trial => VictimRound.Create(spec, data, trial, device)).ToArray();
        var views = rounds.Select(round => (DefensePipeline.None.View(round.Model, round.Uploads(), round.Info, new Rng(1)),
            new AttackContext(device, Rng.For(round.Seed, "attack")))).ToArray();
        var info = AttackCatalog.All.Get(id);
        var attack = (ReconstructionAttack)info.Create(ParameterValues.Create(info.Parameters, new Dictionary<string, object> { ["iterations"] = steps }));
        var clock = new MatchClock();
        attack.Clock = clock;
        long start = Stopwatch.GetTimestamp();
        var outcomes = attack.RunMany(views).Select(o => o.Get()).ToArray();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double psnr = outcomes.Zip(rounds).Average(x => ImageMetrics.MatchAndScore(x.First.Images[0].Images,
            x.Second.Clients[0].StepBatches[0].Images.PerImage(), data.Shape).Average(s => Math.Min(s.Psnr, ImageMetrics.PsnrCeiling)));
        return (seconds, clock.Autograd.TotalSeconds, clock.ProblemEvaluations, psnr);
    }

    public const string Header = "attack    batch  problems  steps  evals  problem-steps/s  evals/s  speedup  autograd  psnr";

    /// <summary>
    /// Writes the table a row at a time, each as soon as it is measured and flushed, so a bench stopped by a time limit
    /// (a CI step, a GPU lent for minutes) keeps the rows it finished.
    /// </summary>
    public static void Stream(IEnumerable<ReconstructionTiming> rows, TextWriter output)
    {
        output.WriteLine(Header);
        output.Flush();
        foreach (var r in rows)
        {
            output.WriteLine(Line(r));
            output.Flush();
        }
    }

    private static string Line(ReconstructionTiming r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Attack,-8}  {r.BatchSize,5}  {r.Problems,8}  {r.Steps,5}  {r.Evaluations,5:F0}  {r.ProblemStepsPerSecond,15:F2}  {r.EvaluationsPerSecond,7:F1}  {r.Speedup,7:F2}  {r.AutogradShare,8:P0}  {r.Psnr,4:F1}");
}
