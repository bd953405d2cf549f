using System.Diagnostics;
using System.Globalization;
using DefenseBench.Attacks.Common;
using DefenseBench.Attacks.IlrgFamily;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Harness.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Bench;

/// <summary>One setting's timings (medians over runs): the FedSGD gradient, iLRG's restoration from it, and both together.</summary>
public sealed record IlrgTiming(string Model, string Dataset, int Classes, int BatchSize, double GradientMs, double RestoreMs, double CellMs, double LnAcc)
{
    public double Ratio => CellMs / GradientMs;
}

/// <summary>
/// Times iLRG as the speed targets ask: the restoration alone (class-wise embeddings, probabilities, the
/// float64 pseudoinverse, rounding) from a victim's gradient, the gradient computation alone (chunked, eval mode),
/// and the cell's work, gradient then restoration, on the same victims. Each is the median of warm runs.
/// </summary>
public static class IlrgBench
{
    public static readonly (string Model, string Dataset)[] Settings =
        [("lenet5", "synthetic-cifar100"), ("fcn3", "synthetic-mnist"), ("dlg-lenet", "synthetic-cifar100")];

    public static IlrgTiming Time(string model, string dataset, int classes, int batch, int runs, Device device)
    {
        using var scope = torch.NewDisposeScope();
        var data = DatasetCatalog.Open(dataset, classes);
        var spec = new ScenarioSpec(dataset, classes, model, batch, LabelDistribution.Iid, 1, new FedSgd(), TrainingStage.Untrained, ModelMode.Eval);
        var round = VictimRound.Create(spec, data, 0, device);
        var attack = new Ilrg(sumToBatch: false);
        var batchData = round.Clients[0].StepBatches[0];
        LastLayer Gradient() => LastLayer.From(LocalTraining.Gradient(round.Model, batchData), batch, spec.Protocol, round.Model);

        var layer = Gradient();
        int[] counts = attack.Recover(layer); // warm-up: kernel selection, first allocations
        var gradient = Median(runs, () => { using var s = torch.NewDisposeScope(); Sync(Gradient().WeightGrad); });
        var restore = Median(runs, () => counts = attack.Recover(layer));
        var cell = Median(runs, () => { using var s = torch.NewDisposeScope(); attack.Recover(Gradient()); });
        return new IlrgTiming(model, dataset, classes, batch, gradient, restore, cell, LabelMetrics.LnAcc(counts, round.Clients[0].TrueCounts));
    }

    /// <summary>Reads one value back, so asynchronous devices have finished the work being timed.</summary>
    private static void Sync(Tensor t) => t.sum().cpu().item<float>();

    private static double Median(int runs, Action work)
    {
        var times = new List<double>();
        for (int r = 0; r < runs; r++)
        {
            var clock = Stopwatch.StartNew();
            work();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return Timing.Median(times);
    }

    public static string Header => "model      dataset             C      B  gradient_ms  restore_ms  cell_ms  cell/gradient  lnacc";

    public static string Line(IlrgTiming t) => string.Create(CultureInfo.InvariantCulture,
        $"{t.Model,-10} {t.Dataset,-18} {t.Classes,4} {t.BatchSize,6} {t.GradientMs,12:F1} {t.RestoreMs,11:F1} {t.CellMs,8:F1} {t.Ratio,14:F2} {t.LnAcc,6:F3}");
}
