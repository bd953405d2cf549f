using System.Globalization;
using System.Text;
using DefenseBench.Core.Components;
using DefenseBench.Harness.Results;
using ScottPlot;
using static DefenseBench.Harness.Plots.PlotRenderer;

namespace DefenseBench.Harness.Plots;

/// <summary>
/// Leakage against a defence's swept parameter: one plot per block, scenario, attack family and defence family; one
/// line per attack variant with error bars (sample standard deviation over seeds); the undefended value of each
/// variant dashed and the random-guess baseline dotted.
/// </summary>
public static class DefenceSweepPlots
{
    public static IEnumerable<string> Render(IReadOnlyList<CellRow> ok, string folder)
    {
        foreach (var block in ok.GroupBy(r => r.Block))
        {
            var varying = Varying(block, ScenarioFields);
            foreach (var scenario in block.GroupBy(r => string.Join("|", ScenarioFields.Select(f => Field(r, f)))))
                foreach (var family in scenario.GroupBy(r => AttackFamily(r.Attack)))
                    foreach (string png in RenderFamily(family.ToList(), block.Key, family.Key, varying, folder))
                        yield return png;
        }
    }

    private static IEnumerable<string> RenderFamily(List<CellRow> rows, string block, string family, string[] varying, string folder)
    {
        string metric = PrimaryMetric(rows);
        var parsed = rows.Select(r => (Row: r, Name: DefenseName.Parse(r.Defense))).ToList();
        var undefended = parsed.Where(p => p.Name.IsNone).Select(p => p.Row).ToList();
        foreach (var defence in parsed.Where(p => !p.Name.IsNone).GroupBy(p => p.Name.Family))
        {
            var axis = SweptParameter(defence.Select(p => p.Name).ToList());
            if (axis == null) continue;
            var (stage, parameter) = axis.Value;
            var series = defence
                .GroupBy(p => SeriesName(p.Row, p.Name, stage, parameter, defence.Select(d => d.Name).ToList(), rows))
                .Select(g => (Name: g.Key, Attack: g.First().Row, Points: g
                    .GroupBy(p => Number(p.Name.Value(stage, parameter)!))
                    .Select(x => (X: x.Key, Stats: Stats(x.Select(p => p.Row.Metric(metric)))))
                    .Where(p => p.Stats.Count > 0)
                    .OrderBy(p => p.X)
                    .ToArray()))
                .Where(s => s.Points.Length > 0)
                .ToArray();
            var xs = series.SelectMany(s => s.Points.Select(p => p.X)).Distinct().Order().ToArray();
            if (xs.Length < 2) continue;
            var plot = new Plot();
            var map = XAxis(plot, xs, 20, out bool logX);
            foreach (var (name, attack, points) in series)
            {
                double[] px = points.Select(p => map(p.X)).ToArray(), py = points.Select(p => p.Stats.Mean).ToArray();
                var scatter = plot.Add.Scatter(px, py);
                scatter.LegendText = name;
                scatter.MarkerSize = 7;
                var bars = plot.Add.ErrorBar(px, py, points.Select(p => p.Stats.Std).ToArray());
                bars.Color = scatter.Color;
                var none = Stats(undefended.Where(r => r.Attack == attack.Attack && r.AttackParams == attack.AttackParams).Select(r => r.Metric(metric)));
                if (none.Count == 0) continue;
                var line = plot.Add.HorizontalLine(none.Mean);
                line.Color = scatter.Color;
                line.LinePattern = LinePattern.Dashed;
                line.LegendText = $"{name}, no defence";
            }
            var random = Stats(rows.Select(r => Metrics.RandomGuessOf(r, metric)));
            if (random.Count > 0)
            {
                var line = plot.Add.HorizontalLine(random.Mean);
                line.Color = Colors.Gray;
                line.LinePattern = LinePattern.Dotted;
                line.LegendText = "random guess";
            }
            var first = rows[0];
            plot.Title($"{block}: {family} vs {defence.Key} ({Describe(first)})");
            plot.XLabel($"{defence.Key} {parameter}" + (logX ? " (log scale)" : ""));
            plot.YLabel(metric.ToUpperInvariant());
            plot.ShowLegend(Alignment.LowerRight);
            yield return Save(plot, metric, folder,
                $"{block}_{family}_{defence.Key}_{parameter}_{metric}" + string.Concat(varying.Select(f => $"_{Short(f)}{Field(first, f)}")));
        }
    }

    /// <summary>The numeric parameter that varies across a defence family's rows; null when none does.</summary>
    private static (string Stage, string Name)? SweptParameter(IReadOnlyList<DefenseName> names)
    {
        foreach (var (stage, name, _) in names[0].Parameters)
        {
            var values = names.Select(n => n.Value(stage, name)).Distinct().ToArray();
            if (values.Length > 1 && values.All(v => v != null && ParameterSpec.TryParseReal(v, out _))) return (stage, name);
        }
        return null;
    }

    /// <summary>The attack label plus any other defence parameter that varies ("llg-plus, ef=on").</summary>
    private static string SeriesName(CellRow row, DefenseName name, string stage, string swept, IReadOnlyList<DefenseName> all, IReadOnlyList<CellRow> family)
    {
        var text = new StringBuilder(AttackLabel(row, family));
        foreach (var (s, n, v) in name.Parameters)
            if (!(s == stage && n == swept) && all.Select(a => a.Value(s, n)).Distinct().Count() > 1)
                text.Append(CultureInfo.InvariantCulture, $", {n}={v}")
                    .Append(row.Round == 0 && StatefulOptions.KeepsState(s, n, v) ? " (state empty in one round: leaks as without)" : "");
        return text.ToString();
    }
}
