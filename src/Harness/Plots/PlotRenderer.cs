using System.Globalization;
using System.Text;
using DefenseBench.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Harness.Results;
using ScottPlot;

namespace DefenseBench.Harness.Plots;

/// <summary>
/// Helpers shared by the plot exporters (<see cref="RunExporters"/>), which draw every plot of a finished run from
/// cells.csv alone, PNG and SVG: leakage against a defence's swept parameter
/// (<see cref="DefenceSweepPlots"/>) and leakage against a swept scenario axis, batch size or training stage
/// (<see cref="ScenarioSweepPlots"/>).
/// Cells with utility training also get leakage against utility (<see cref="TradeoffPlot"/>).
/// </summary>
public static class PlotRenderer
{
    public static readonly string[] ScenarioFields = ["dataset", "model", "batch_size", "num_classes", "labels", "clients", "protocol", "stage", "mode", "round"];

    /// <summary>
    /// The family an attack's catalog entry declares: variants share one (llg, llg-star and llg-plus are all "llg").
    /// An id the catalog does not hold (a cells.csv from another version) is a family of its own.
    /// </summary>
    public static string AttackFamily(string attack) => AttackCatalog.All.TryGetTraits(attack, out var traits) ? traits.Family : attack;

    /// <summary>The metric an attack's catalog entry says it is judged by, or null (none declared, or an id the catalog lacks).</summary>
    public static string? DeclaredMetric(string attack) => AttackCatalog.All.TryGetTraits(attack, out var traits) ? traits.PrimaryMetric : null;

    /// <summary>
    /// The leakage metric rows of one attack family are judged by: PSNR when they hold it (reconstruction attacks may
    /// report labels too), else the one their catalog entry declares, else the first label metric present.
    /// </summary>
    public static string PrimaryMetric(IReadOnlyList<CellRow> rows) =>
        rows.Any(r => r.Psnr != null) ? Metrics.Psnr.Name
        : rows.Select(r => DeclaredMetric(r.Attack)).FirstOrDefault(m => m != null)
          ?? new[] { Metrics.LnAcc, Metrics.Asr }.FirstOrDefault(m => rows.Any(r => m.Read(r) != null))?.Name ?? Metrics.Asr.Name;

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
        "round" => r.Round.ToString(CultureInfo.InvariantCulture),
        _ => r.Mode,
    };

    /// <summary>The scenario fields that take more than one value among <paramref name="rows"/>.</summary>
    internal static string[] Varying(IEnumerable<CellRow> rows, IEnumerable<string> fields) =>
        fields.Where(f => rows.Select(r => Field(r, f)).Distinct().Count() > 1).ToArray();

    /// <summary>Mean, sample standard deviation and count of the non-empty values.</summary>
    internal static (double Mean, double Std, int Count) Stats(IEnumerable<double?> values)
    {
        var v = values.Where(x => x != null).Select(x => x!.Value).ToArray();
        if (v.Length == 0) return (0, 0, 0);
        double mean = v.Average();
        double std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return (mean, std, v.Length);
    }

    /// <summary>"a=1,b=x" as (name, value) pairs.</summary>
    internal static (string Name, string Value)[] Pairs(string parameters) =>
        parameters.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (p[0], p.Length > 1 ? p[1] : ""))
            .ToArray();

    /// <summary>The attack, plus every attack parameter that varies among the rows of that attack ("llg-plus, aux_per_class=16").</summary>
    internal static string AttackLabel(CellRow row, IReadOnlyList<CellRow> rows)
    {
        var text = new StringBuilder(row.Attack);
        var variants = rows.Where(r => r.Attack == row.Attack).Select(r => r.AttackParams).Distinct().Select(Pairs).ToArray();
        foreach (var (n, v) in Pairs(row.AttackParams))
            if (variants.Select(p => p.FirstOrDefault(q => q.Name == n).Value).Distinct().Count() > 1)
                text.Append(CultureInfo.InvariantCulture, $", {n}={v}");
        return text.ToString();
    }

    internal static double Number(string text) => ParameterSpec.TryParseReal(text, out double v) ? v : double.NaN;

    internal static string Describe(CellRow r) => $"{r.Dataset}, {r.Model}, B={r.BatchSize}, {r.Labels}, {r.Protocol}";

    internal static string Short(string field) => field switch
    {
        "batch_size" => "b",
        "num_classes" => "c",
        "clients" => "k",
        _ => field + "-",
    };

    /// <summary>A log-scaled x axis when the values span a factor of <paramref name="ratio"/> or more: positions are log10(x).</summary>
    internal static Func<double, double> XAxis(Plot plot, double[] xs, double ratio, out bool log)
    {
        log = xs[0] > 0 && xs[^1] / xs[0] >= ratio;
        if (!log) return x => x;
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (double x in xs) ticks.AddMajor(Math.Log10(x), x.ToString("G4", CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = ticks;
        return Math.Log10;
    }

    /// <summary>Fixes the y range of metrics that are fractions and saves PNG and SVG; returns the PNG's path.</summary>
    internal static string Save(Plot plot, string metric, string folder, string stem)
    {
        if (Metrics.Find(metric)?.Fraction == true) plot.Axes.SetLimitsY(-0.02, 1.05);
        Directory.CreateDirectory(folder);
        string slug = Slug(stem), png = Results.SafePath.Inside(folder, slug + ".png", $"{Results.CellsCsv.FileName} (a plot's name)");
        plot.SavePng(png, 900, 560);
        plot.SaveSvg(Path.ChangeExtension(png, ".svg"), 900, 560);
        return png;
    }

    internal static string Slug(string text)
    {
        var sb = new StringBuilder();
        foreach (char c in text) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-');
        return sb.ToString();
    }
}
