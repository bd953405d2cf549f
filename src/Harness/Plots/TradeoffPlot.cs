using DefenseBench.Harness.Results;
using ScottPlot;

namespace DefenseBench.Harness.Plots;

/// <summary>One defence setting on the leakage-versus-utility plane: means over its seeds.</summary>
public sealed record TradeoffPoint(string Defense, string Family, string Label, double Utility, double Leakage, double LeakageStd)
{
    public bool Undefended => Family == "none";
}

/// <summary>
/// Leakage against utility (README, utility and privacy), from cells.csv alone: x = test accuracy after FL training under
/// the defence (utility_acc), y = the attack's leakage metric; one plot per block, scenario and attack; one series per
/// defence family with the parameter that varies written beside each point; the undefended point marked; the Pareto
/// front (no other setting both leaks less and trains better) drawn through the points; the random-guess baseline
/// dotted. PNG and SVG.
/// </summary>
public static class TradeoffPlot
{
    private static readonly string[] ScenarioFields = PlotRenderer.ScenarioFields;

    public static List<string> RenderAll(IReadOnlyList<CellRow> rows, string folder)
    {
        var written = new List<string>();
        var trained = rows.Where(r => r.Status == CellRow.Ok && r.UtilityAcc != null).ToList();
        foreach (var block in trained.GroupBy(r => r.Block))
        {
            var varying = ScenarioFields.Where(f => block.Select(r => PlotRenderer.Field(r, f)).Distinct().Count() > 1).ToArray();
            foreach (var scenario in block.GroupBy(r => string.Join("|", ScenarioFields.Select(f => PlotRenderer.Field(r, f)))))
                foreach (var attack in scenario.GroupBy(r => (r.Attack, r.AttackParams)))
                {
                    var group = attack.ToList();
                    string metric = PlotRenderer.PrimaryMetric(group);
                    var points = Points(group, metric);
                    if (points.Count < 2) continue;
                    // Variants of one attack in one scenario need their parameters in the file name to stay apart.
                    bool variants = scenario.Where(r => r.Attack == attack.Key.Attack).Select(r => r.AttackParams).Distinct().Count() > 1;
                    written.Add(Render(group, points, metric, block.Key, varying, variants, folder));
                }
        }
        return written;
    }

    /// <summary>
    /// One point per defence setting, labelled by the parameters that vary within its family ("z=0.5"); a family with
    /// a single setting is labelled by none (its legend entry names it).
    /// </summary>
    public static List<TradeoffPoint> Points(IReadOnlyList<CellRow> rows, string metric)
    {
        var settings = rows.GroupBy(r => r.Defense)
            .Select(g => (Defense: g.Key, Name: DefenseName.Parse(g.Key), Rows: g.ToList()))
            .Where(s => s.Rows.Any(r => r.Metric(metric) != null))
            .ToList();
        var points = new List<TradeoffPoint>();
        foreach (var family in settings.GroupBy(s => s.Name.Family))
        {
            var names = family.Select(s => s.Name).ToList();
            foreach (var (defense, name, group) in family)
            {
                var leakage = group.Select(r => r.Metric(metric)).Where(v => v != null).Select(v => v!.Value).ToArray();
                double mean = leakage.Average();
                double std = leakage.Length > 1 ? Math.Sqrt(leakage.Sum(v => (v - mean) * (v - mean)) / (leakage.Length - 1)) : 0;
                string label = string.Join(",", Varying(names).Select(p => $"{p.Name}={name.Value(p.Stage, p.Name)}"
                    + (group.All(r => r.Round == 0) && StatefulOptions.KeepsState(p.Stage, p.Name, name.Value(p.Stage, p.Name)) ? " (one-round leakage as without)" : "")));
                points.Add(new TradeoffPoint(defense, family.Key, label, group.Average(r => r.UtilityAcc!.Value), mean, std));
            }
        }
        return points;
    }

    /// <summary>The points no other point dominates (at least as accurate and at most as leaky, better in one), by accuracy.</summary>
    public static List<TradeoffPoint> ParetoFront(IReadOnlyList<TradeoffPoint> points) =>
        points.Where(p => !points.Any(q => q.Utility >= p.Utility && q.Leakage <= p.Leakage && (q.Utility > p.Utility || q.Leakage < p.Leakage)))
            .OrderBy(p => p.Utility).ThenByDescending(p => p.Leakage)
            .ToList();

    /// <summary>(stage, parameter) pairs whose values differ among a family's settings.</summary>
    private static IEnumerable<(string Stage, string Name)> Varying(IReadOnlyList<DefenseName> names) =>
        names[0].Parameters.Select(p => (p.Stage, p.Name)).Distinct()
            .Where(p => names.Select(n => n.Value(p.Stage, p.Name)).Distinct().Count() > 1);

    /// <summary>The parameters shared by all of a family's settings, for its legend entry ("clip=1").</summary>
    private static string Fixed(IReadOnlyList<DefenseName> names)
    {
        var varying = Varying(names).ToHashSet();
        return string.Join(",", names[0].Parameters.Where(p => !varying.Contains((p.Stage, p.Name))).Select(p => $"{p.Name}={p.Value}"));
    }

    private static string Render(List<CellRow> rows, List<TradeoffPoint> points, string metric, string block, string[] varying, bool variants, string folder)
    {
        var plot = new Plot();
        int colour = 0;
        foreach (var family in points.Where(p => !p.Undefended).GroupBy(p => p.Family))
        {
            var ordered = family.OrderBy(p => p.Utility).ToArray();
            var color = plot.Add.Palette.GetColor(colour++);
            double[] xs = ordered.Select(p => p.Utility).ToArray(), ys = ordered.Select(p => p.Leakage).ToArray();
            var scatter = plot.Add.ScatterPoints(xs, ys, color);
            scatter.MarkerSize = 8;
            string common = Fixed(family.Select(p => DefenseName.Parse(p.Defense)).ToList());
            scatter.LegendText = common.Length == 0 || family.Count() == 1 && common.Length > 40 ? family.Key : $"{family.Key} ({common})";
            var bars = plot.Add.ErrorBar(xs, ys, ordered.Select(p => p.LeakageStd).ToArray());
            bars.Color = color;
            foreach (var p in ordered.Where(p => p.Label.Length > 0)) Label(plot, p.Label, p.Utility, p.Leakage, color);
        }
        foreach (var none in points.Where(p => p.Undefended))
        {
            var marker = plot.Add.Marker(none.Utility, none.Leakage, MarkerShape.FilledDiamond, 14, Colors.Black);
            marker.LegendText = "no defence";
        }
        var front = ParetoFront(points);
        if (front.Count > 1)
        {
            var line = plot.Add.ScatterLine(front.Select(p => p.Utility).ToArray(), front.Select(p => p.Leakage).ToArray(), Colors.Gray);
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 1.5f;
            line.LegendText = "Pareto front";
        }
        var random = rows.Select(r => Metrics.RandomGuessOf(r, metric)).Where(v => v != null).Select(v => v!.Value).ToArray();
        if (random.Length > 0)
        {
            var line = plot.Add.HorizontalLine(random.Average());
            line.Color = Colors.Gray;
            line.LinePattern = LinePattern.Dotted;
            line.LegendText = "random guess";
        }
        var first = rows[0];
        string attack = variants ? $"{first.Attack}({first.AttackParams})" : first.Attack;
        plot.Title($"{block}: {attack} leakage vs utility\n{first.Dataset}, {first.Model}, B={first.BatchSize}, {first.Labels}, {first.Protocol}, K={first.Clients}");
        plot.XLabel("test accuracy after FL training under the defence (utility_acc)");
        plot.YLabel(metric.ToUpperInvariant());
        if (Metrics.Find(metric)?.Fraction == true) plot.Axes.SetLimitsY(-0.02, 1.05);
        plot.ShowLegend(Edge.Right); // outside the data area: the points fill every corner of it
        string stem = PlotRenderer.Slug($"{block}_{first.Attack}" + (variants ? "-" + first.AttackParams : "") + $"_tradeoff_{metric}" +
                                        string.Concat(varying.Select(f => $"_{f}-{PlotRenderer.Field(first, f)}")));
        Directory.CreateDirectory(folder);
        string png = Results.SafePath.Inside(folder, stem + ".png", $"{Results.CellsCsv.FileName} (a plot's name)");
        plot.SavePng(png, 1200, 640);
        plot.SaveSvg(Path.ChangeExtension(png, ".svg"), 1200, 640);
        return png;
    }

    private static void Label(Plot plot, string text, double x, double y, Color color)
    {
        var label = plot.Add.Text(text, x, y);
        label.LabelFontSize = 11;
        label.LabelFontColor = color;
        label.LabelOffsetX = 6;
        label.LabelOffsetY = -6;
        label.LabelAlignment = Alignment.LowerLeft;
    }

}
