using DefenseBench.Harness.Results;
using ScottPlot;
using static DefenseBench.Harness.Plots.PlotRenderer;

namespace DefenseBench.Harness.Plots;

/// <summary>
/// Leakage against the attacked round (the matrix key `round`): for each block that attacks more than one round, one
/// plot per setting of the other scenario fields and leakage metric, one line per attack and defence (a colour per
/// attack, a marker per defence, so top-k with and without error feedback sit side by side), error bars over seeds, the
/// random guesser's expected score dotted.
/// x is R, the rounds of federated training under the defence before the attacked one.
/// </summary>
public static class RoundPlots
{
    private static readonly string[] Metrics = [Results.Metrics.Asr.Name, Results.Metrics.LnAcc.Name, Results.Metrics.LeAcc.Name, Results.Metrics.Psnr.Name];

    public static IEnumerable<string> Render(IReadOnlyList<CellRow> ok, string folder)
    {
        var others = ScenarioFields.Where(f => f != "round").ToArray();
        foreach (var block in ok.GroupBy(r => r.Block))
        {
            if (block.Select(r => r.Round).Distinct().Count() < 2) continue;
            var varying = Varying(block, others);
            foreach (var scenario in block.GroupBy(r => string.Join("|", others.Select(f => Field(r, f)))))
                foreach (string metric in Metrics)
                {
                    var png = Render(scenario.ToList(), block.Key, metric, varying, folder);
                    if (png != null) yield return png;
                }
        }
    }

    private static string? Render(List<CellRow> rows, string block, string metric, string[] varying, string folder)
    {
        var withMetric = rows.Where(r => r.Metric(metric) != null).ToList();
        var rounds = withMetric.Select(r => r.Round).Distinct().Order().ToArray();
        if (rounds.Length < 2) return null;
        var plot = new Plot();
        bool manyDefences = withMetric.Select(r => r.Defense).Distinct().Count() > 1;
        // One colour per attack, one marker shape per defence: the lines of an attack read as one family. (Dashed
        // scatter lines are not drawn in SkiaSharp's SVG, which says so on the console for every path.)
        var attacks = withMetric.Select(r => AttackLabel(r, withMetric)).Distinct().Order(StringComparer.Ordinal).ToList();
        var defences = withMetric.Select(r => r.Defense).Distinct().Order(StringComparer.Ordinal).ToList();
        var palette = new ScottPlot.Palettes.Category10();
        MarkerShape[] shapes = [MarkerShape.FilledCircle, MarkerShape.OpenSquare, MarkerShape.FilledTriangleUp, MarkerShape.OpenDiamond, MarkerShape.Cross];
        foreach (var series in withMetric.GroupBy(r => (Attack: AttackLabel(r, withMetric), r.Defense)).OrderBy(s => s.Key.Attack, StringComparer.Ordinal).ThenBy(s => s.Key.Defense, StringComparer.Ordinal))
        {
            var points = series.GroupBy(r => r.Round).OrderBy(g => g.Key)
                .Select(g => (X: (double)g.Key, Stats: Stats(g.Select(r => r.Metric(metric))))).ToArray();
            double[] px = points.Select(p => p.X).ToArray(), py = points.Select(p => p.Stats.Mean).ToArray();
            var scatter = plot.Add.Scatter(px, py);
            scatter.LegendText = series.Key.Attack + (manyDefences ? ", " + series.Key.Defense : "");
            scatter.Color = palette.GetColor(attacks.IndexOf(series.Key.Attack));
            scatter.MarkerShape = shapes[defences.IndexOf(series.Key.Defense) % shapes.Length];
            scatter.MarkerSize = 8;
            var bars = plot.Add.ErrorBar(px, py, points.Select(p => p.Stats.Std).ToArray());
            bars.Color = scatter.Color;
        }
        // The random guesser's score depends on the batches' sizes and classes, which every round shares.
        var random = Stats(withMetric.Select(r => Results.Metrics.RandomGuessOf(r, metric)));
        if (random.Count > 0)
        {
            var line = plot.Add.HorizontalLine(random.Mean);
            line.Color = Colors.Gray;
            line.LinePattern = LinePattern.Dotted;
            line.LegendText = "random guess";
        }
        var first = rows[0];
        // Short: the legend beside the axes leaves the title the axes' width.
        plot.Title($"{block}: {metric.ToUpperInvariant()} vs round (B={first.BatchSize})");
        plot.XLabel("rounds R of federated training before the attacked round");
        plot.YLabel(metric.ToUpperInvariant());
        // Beside the axes: one line per attack and defence is many lines, and a legend inside would hide some.
        plot.ShowLegend(Edge.Right);
        return Save(plot, metric, folder, $"{block}_{metric}_vs_round" + string.Concat(varying.Select(f => $"_{Short(f)}{Field(first, f)}")));
    }
}
