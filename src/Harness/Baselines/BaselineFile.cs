using System.Globalization;
using CsvHelper;
using DefenseBench.Core.Components;
using DefenseBench.Core.Metrics;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Baselines;

/// <summary>
/// One cell's accepted values: its description, seed count, status and the mean of each metric over seeds, PSNR at the
/// resolution of 8-bit images (each seed's value capped at <see cref="ImageMetrics.EightBitPsnr"/>, see <see cref="Comparable"/>).
/// </summary>
public sealed record BaselineCell(
    string CellId,
    string Block,
    string Attack,
    string AttackParams,
    string Defense,
    string Scenario,
    int Seeds,
    string Status,
    IReadOnlyDictionary<string, double> Metrics)
{
    /// <summary>Summarises the rows of one cell (all its seeds).</summary>
    public static BaselineCell From(IReadOnlyList<CellRow> rows)
    {
        var first = rows[0];
        var ok = rows.Where(r => r.Status == CellRow.Ok).ToArray();
        var statuses = rows.Select(r => r.Status).Distinct().Order().ToArray();
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string metric in CellRow.MetricColumns)
        {
            var values = ok.Select(r => r.Metric(metric)).Where(v => v != null).Select(v => Comparable(metric, v!.Value)).ToArray();
            if (values.Length > 0) metrics[metric] = values.Average();
        }
        return new BaselineCell(first.CellId, first.Block, first.Attack, first.AttackParams, first.Defense, ScenarioText(first),
            rows.Count, string.Join("+", statuses), metrics);
    }

    /// <summary>
    /// A seed's metric as runs are compared: its value, except PSNR above <see cref="ImageMetrics.EightBitPsnr"/>, which
    /// counts as that bound. Two reconstructions beyond it are the same image to within a grey level, and how far beyond
    /// is float32 rounding that moves with the BLAS code path and batching (docs/attacks.md), so a converged seed would
    /// otherwise fail verify on another machine by several dB while a seed at 20 dB moving by 2 dB still fails it.
    /// </summary>
    public static double Comparable(string metric, double value) =>
        metric == Results.Metrics.Names.Psnr ? ImageMetrics.Resolved(value) : value;

    /// <summary>The attack with its parameters as every verify report shows it ("llg-plus adaptive=off"), so two cells
    /// that differ only in a parameter are told apart.</summary>
    public string AttackText => $"{Attack} {AttackParams}".TrimEnd();

    /// <summary>The scenario as one text; a round after 0 is appended ("... train round=5"), so round-0 cells read as before.</summary>
    public static string ScenarioText(CellRow r) =>
        $"{r.Dataset} {r.Model} B={r.BatchSize} C={r.NumClasses} {r.Labels} K={r.Clients} {r.Protocol} {r.Stage} {r.Mode}" +
        (r.Round == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" round={r.Round}"));
}

/// <summary>results/baselines/&lt;matrix&gt;.csv: one row per cell, a column per metric (empty where it does not apply).</summary>
public static class BaselineFile
{
    private static readonly string[] Fixed = ["cell_id", "block", "attack", "attack_params", "defense", "scenario", "seeds", "status"];

    public static void Write(string path, IEnumerable<BaselineCell> cells)
    {
        StreamWriter stream;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            stream = new StreamWriter(path, append: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"the baseline {path} cannot be written ({e.Message})", "give --baseline a file path in a folder that can be created and written");
        }
        using var csv = CsvWriter.Create(stream,
            new CsvWriterOptions { FormatProvider = CultureInfo.InvariantCulture, NewLine = "\n" }, leaveOpen: false);
        csv.WriteRecord([.. Fixed, .. CellRow.MetricColumns]);
        foreach (var c in cells)
        {
            string[] fields =
            [
                c.CellId, c.Block, c.Attack, c.AttackParams, c.Defense, c.Scenario, c.Seeds.ToString(CultureInfo.InvariantCulture), c.Status,
                .. CellRow.MetricColumns.Select(m => c.Metrics.TryGetValue(m, out double v) ? v.ToString("R", CultureInfo.InvariantCulture) : ""),
            ];
            csv.WriteRecord(fields);
        }
    }

    public static List<BaselineCell> Read(string path)
    {
        if (Directory.Exists(path)) throw new InputException($"the baseline {path} is a folder, not a file", "give --baseline the baseline CSV file");
        if (!File.Exists(path))
            throw new InputException($"there is no baseline {path}", "run the matrix, then `verify MATRIX --accept` to write it");
        var cells = new List<BaselineCell>();
        using var csv = CsvReader.FromFile(path, new CsvReaderOptions { FormatProvider = CultureInfo.InvariantCulture }, FileOptions.None);
        int line = 1;
        while (csv.Read())
        {
            line++;
            try
            {
                var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (string m in CellRow.MetricColumns)
                {
                    if (!csv.TryGetFieldIndex(m, out int index) || csv.IsEmpty(index)) continue;
                    metrics[m] = double.Parse(csv.GetString(index), NumberStyles.Float, CultureInfo.InvariantCulture);
                }
                cells.Add(new BaselineCell(csv.GetString("cell_id"), csv.GetString("block"), csv.GetString("attack"), csv.GetString("attack_params"),
                    csv.GetString("defense"), csv.GetString("scenario"), int.Parse(csv.GetString("seeds"), CultureInfo.InvariantCulture),
                    csv.GetString("status"), metrics));
            }
            catch (Exception e) when (e is FormatException or ArgumentException or KeyNotFoundException or IndexOutOfRangeException)
            {
                throw new InputException($"line {line} cannot be read ({e.Message})", "repair the line or re-accept the baseline", path, line);
            }
        }
        return cells;
    }
}
