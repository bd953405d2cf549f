using System.Globalization;
using DefenseBench.Harness.Results;
using ScottPlot;
using static DefenseBench.Harness.Plots.PlotRenderer;

namespace DefenseBench.Harness.Plots;

/// <summary>
/// Leakage against a scenario axis that a block sweeps, batch size or training stage (iLRG's LnAcc against batch
/// size per method; its decay with training): one plot per block, axis, defence, label metric and setting of the
/// other scenario fields, one line per attack with error bars over seeds, and the random guesser's expected score at
/// each x dotted. Existence-only attacks have no LnAcc, so they appear in the LeAcc plot only.
/// </summary>
public static class ScenarioSweepPlots
{
    private static readonly string[] Axes = ["batch_size", "stage"];
    private static readonly string[] SweptMetrics = [Results.Metrics.LnAcc.Name, Results.Metrics.LeAcc.Name, Results.Metrics.Asr.Name];

    /// <summary>ASR is LLG's measure; iLRG's metrics are LeAcc and LnAcc. Draw ASR only where an LLG variant ran.</summary>
    private static bool Wanted(string metric, IEnumerable<CellRow> rows) => metric != Results.Metrics.Asr.Name || rows.Any(r => DeclaredMetric(r.Attack) == metric);

    public static IEnumerable<string> Render(IReadOnlyList<CellRow> ok, string folder)
    {
        foreach (var block in ok.GroupBy(r => r.Block))
            foreach (string axis in Axes)
            {
                if (block.Select(r => Field(r, axis)).Distinct().Count() < 2) continue;
                var others = ScenarioFields.Where(f => f != axis).ToArray();
                var varying = Varying(block, others);
                bool manyDefences = block.Select(r => r.Defense).Distinct().Count() > 1;
                foreach (var group in block.GroupBy(r => string.Join("|", others.Select(f => Field(r, f))) + "|" + r.Defense))
                    foreach (string metric in SweptMetrics.Where(m => Wanted(m, group)))
                    {
                        var rows = group.ToList();
                        var png = Render(rows, block.Key, axis, metric, varying, manyDefences, folder);
                        if (png != null) yield return png;
                    }
            }
    }

    private static string? Render(List<CellRow> rows, string block, string axis, string metric, string[] varying, bool manyDefences, string folder)
    {
        var withMetric = rows.Where(r => r.Metric(metric) != null).ToList();
        var xs = withMetric.Select(r => X(r, axis)).Where(double.IsFinite).Distinct().Order().ToArray();
        if (xs.Length < 2) return null;
        var plot = new Plot();
        var map = XAxis(plot, xs, 4, out bool logX);
        foreach (var series in withMetric.GroupBy(r => AttackLabel(r, rows)))
        {
            var points = series.GroupBy(r => X(r, axis)).Where(g => double.IsFinite(g.Key))
                .Select(g => (X: g.Key, Stats: Stats(g.Select(r => r.Metric(metric))))).OrderBy(p => p.X).ToArray();
            double[] px = points.Select(p => map(p.X)).ToArray(), py = points.Select(p => p.Stats.Mean).ToArray();
            var scatter = plot.Add.Scatter(px, py);
            scatter.LegendText = series.Key;
            scatter.MarkerSize = 7;
            var bars = plot.Add.ErrorBar(px, py, points.Select(p => p.Stats.Std).ToArray());
            bars.Color = scatter.Color;
        }
        var random = withMetric.GroupBy(r => X(r, axis)).Where(g => double.IsFinite(g.Key))
            .Select(g => (X: g.Key, Stats: Stats(g.Select(r => Results.Metrics.RandomGuessOf(r, metric))))).Where(p => p.Stats.Count > 0).OrderBy(p => p.X).ToArray();
        if (random.Length > 1)
        {
            var line = plot.Add.Scatter(random.Select(p => map(p.X)).ToArray(), random.Select(p => p.Stats.Mean).ToArray());
            line.Color = Colors.Gray;
            line.LinePattern = LinePattern.Dotted;
            line.MarkerSize = 0;
            line.LegendText = "random guess";
        }
        var first = rows[0];
        string what = axis == "batch_size" ? "batch size" : StageUnit(withMetric);
        plot.Title($"{block}: {metric.ToUpperInvariant()} vs {what} ({first.Dataset}, {first.Model}, {first.Labels}, {first.Protocol}, {first.Defense})");
        plot.XLabel(what + (logX ? " (log scale)" : ""));
        plot.YLabel(metric.ToUpperInvariant());
        plot.ShowLegend(Alignment.LowerLeft);
        string defence = manyDefences ? "_" + first.Defense : "";
        return Save(plot, metric, folder,
            $"{block}_{metric}_vs_{(axis == "batch_size" ? "batch" : "stage")}{defence}" + string.Concat(varying.Select(f => $"_{Short(f)}{Field(first, f)}")));
    }

    /// <summary>The x value: the batch size, or a stage's step or epoch count (0 untrained).</summary>
    public static double X(CellRow row, string axis)
    {
        if (axis == "batch_size") return row.BatchSize;
        if (row.Stage == "untrained") return 0;
        string count = row.Stage.Split(',')[0];
        int eq = count.IndexOf('=');
        return eq > 0 && int.TryParse(count[(eq + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : double.NaN;
    }

    private static string StageUnit(IEnumerable<CellRow> rows)
    {
        var units = rows.Where(r => r.Stage != "untrained").Select(r => r.Stage.Split('=')[0]).Distinct().ToArray();
        return units.Length == 1 ? $"training {units[0]}" : "training stage (steps or epochs)";
    }
}
