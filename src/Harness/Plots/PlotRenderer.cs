using System.Globalization;
using System.Text;
using DefenseBench.Core.Components;
using DefenseBench.Harness.Results;
using ScottPlot;

namespace DefenseBench.Harness.Plots;

/// <summary>
/// Leakage against a defence's swept parameter, from cells.csv alone: one plot per block, scenario, attack family and
/// defence family; one line per attack variant with error bars (sample standard deviation over seeds); the
/// undefended value of each variant dashed and the random-guess baseline dotted. PNG and SVG.
/// </summary>
public static class PlotRenderer
{
    private static readonly string[] ScenarioFields = ["dataset", "model", "batch_size", "num_classes", "labels", "clients", "protocol", "stage", "mode"];

    public static List<string> RenderAll(IReadOnlyList<CellRow> rows, string folder)
    {
        var written = new List<string>();
        var ok = rows.Where(r => r.Status == CellRow.Ok).ToList();
        foreach (var block in ok.GroupBy(r => r.Block))
        {
            var varying = ScenarioFields.Where(f => block.Select(r => Field(r, f)).Distinct().Count() > 1).ToArray();
            foreach (var scenario in block.GroupBy(r => string.Join("|", ScenarioFields.Select(f => Field(r, f)))))
                foreach (var family in scenario.GroupBy(r => AttackFamily(r.Attack)))
                    written.AddRange(RenderFamily(family.ToList(), block.Key, family.Key, varying, folder));
        }
        return written;
    }

    /// <summary>Variants share a family: llg, llg-star and llg-plus are all "llg".</summary>
    public static string AttackFamily(string attack) => attack.Split('-')[0];

    /// <summary>
    /// The leakage metric a family is judged by: PSNR for reconstruction attacks (they may report labels too), ASR for
    /// LLG, else the first label metric present.
    /// </summary>
    public static string PrimaryMetric(string family, IReadOnlyList<CellRow> rows) =>
        rows.Any(r => r.Psnr != null) ? "psnr"
        : family == "llg" ? "asr" : new[] { "lnacc", "asr" }.FirstOrDefault(m => rows.Any(r => r.Metric(m) != null)) ?? "asr";

    private static IEnumerable<string> RenderFamily(List<CellRow> rows, string block, string family, string[] varying, string folder)
    {
        string metric = PrimaryMetric(family, rows);
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
            bool logX = xs[0] > 0 && xs[^1] / xs[0] >= 20;
            double Map(double x) => logX ? Math.Log10(x) : x;
            var plot = new Plot();
            foreach (var (name, attack, points) in series)
            {
                double[] px = points.Select(p => Map(p.X)).ToArray(), py = points.Select(p => p.Stats.Mean).ToArray();
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
            var random = Stats(rows.Select(r => r.Metric(metric + "_random")));
            if (random.Count > 0)
            {
                var line = plot.Add.HorizontalLine(random.Mean);
                line.Color = Colors.Gray;
                line.LinePattern = LinePattern.Dotted;
                line.LegendText = "random guess";
            }
            if (logX)
            {
                var ticks = new ScottPlot.TickGenerators.NumericManual();
                foreach (double x in xs) ticks.AddMajor(Math.Log10(x), x.ToString("G4", CultureInfo.InvariantCulture));
                plot.Axes.Bottom.TickGenerator = ticks;
            }
            var first = rows[0];
            plot.Title($"{block}: {family} vs {defence.Key} ({Describe(first)})");
            plot.XLabel($"{defence.Key} {parameter}" + (logX ? " (log scale)" : ""));
            plot.YLabel(metric.ToUpperInvariant());
            if (metric is "asr" or "leacc" or "lnacc" or "irec" or "ssim") plot.Axes.SetLimitsY(-0.02, 1.05);
            plot.ShowLegend(Alignment.LowerRight);
            string stem = Slug($"{block}_{family}_{defence.Key}_{parameter}_{metric}" + string.Concat(varying.Select(f => $"_{Short(f)}{Field(first, f)}")));
            Directory.CreateDirectory(folder);
            string png = Path.Combine(folder, stem + ".png");
            plot.SavePng(png, 900, 560);
            plot.SaveSvg(Path.Combine(folder, stem + ".svg"), 900, 560);
            yield return png;
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

    /// <summary>
    /// The attack, plus any attack parameter that varies among the family's variants of that attack
    /// ("llg-plus, aux_per_class=16"), plus any other defence parameter that varies ("llg-plus, ef=on").
    /// </summary>
    private static string SeriesName(CellRow row, DefenseName name, string stage, string swept, IReadOnlyList<DefenseName> all, IReadOnlyList<CellRow> family)
    {
        var text = new StringBuilder(row.Attack);
        var variants = family.Where(r => r.Attack == row.Attack).Select(r => r.AttackParams).Distinct().Select(Pairs).ToArray();
        foreach (var (n, v) in Pairs(row.AttackParams))
            if (variants.Select(p => p.FirstOrDefault(q => q.Name == n).Value).Distinct().Count() > 1)
                text.Append(CultureInfo.InvariantCulture, $", {n}={v}");
        foreach (var (s, n, v) in name.Parameters)
            if (!(s == stage && n == swept) && all.Select(a => a.Value(s, n)).Distinct().Count() > 1)
                text.Append(CultureInfo.InvariantCulture, $", {n}={v}");
        return text.ToString();
    }

    /// <summary>"a=1,b=x" as (name, value) pairs.</summary>
    private static (string Name, string Value)[] Pairs(string parameters) =>
        parameters.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (p[0], p.Length > 1 ? p[1] : ""))
            .ToArray();

    private static (double Mean, double Std, int Count) Stats(IEnumerable<double?> values)
    {
        var v = values.Where(x => x != null).Select(x => x!.Value).ToArray();
        if (v.Length == 0) return (0, 0, 0);
        double mean = v.Average();
        double std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return (mean, std, v.Length);
    }

    private static double Number(string text) => ParameterSpec.TryParseReal(text, out double v) ? v : double.NaN;

    private static string Describe(CellRow r) => $"{r.Dataset}, {r.Model}, B={r.BatchSize}, {r.Labels}, {r.Protocol}";

    private static string Short(string field) => field switch
    {
        "batch_size" => "b",
        "num_classes" => "c",
        "clients" => "k",
        _ => field + "-",
    };

    public static string Field(CellRow r, string field) => field switch
    {
        "dataset" => r.Dataset,
        "model" => r.Model,
        "batch_size" => r.BatchSize.ToString(CultureInfo.InvariantCulture),
        "num_classes" => r.NumClasses.ToString(CultureInfo.InvariantCulture),
        "labels" => r.Labels,
        "clients" => r.Clients.ToString(CultureInfo.InvariantCulture),
        "protocol" => r.Protocol,
        "stage" => r.Stage,
        _ => r.Mode,
    };

    private static string Slug(string text)
    {
        var sb = new StringBuilder();
        foreach (char c in text) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-');
        return sb.ToString();
    }
}
