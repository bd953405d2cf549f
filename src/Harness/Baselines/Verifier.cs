using System.Globalization;
using DefenseBench.Core.Components;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Baselines;

/// <summary>A cell that moved: which metric, from what, to what, against which tolerance.</summary>
public sealed record Movement(BaselineCell? Baseline, BaselineCell? Now, string What, double? Was, double? Is, double? Tolerance)
{
    public string CellId => (Baseline ?? Now)!.CellId;

    /// <summary>The cell as it is described: by the run where it ran, else by the baseline.</summary>
    public BaselineCell Cell => (Now ?? Baseline)!;

    /// <summary>Now minus the baseline; null unless both values are known.</summary>
    public double? Difference => Was is { } w && Is is { } i ? i - w : null;

    /// <summary>
    /// One line for a report: a metric with its baseline and current value, the difference and the tolerance
    /// ("asr: baseline 0.8, now 0.6, difference -0.2, tolerance 0.05"); a status change or a missing cell as it is.
    /// </summary>
    public string Describe() => Tolerance is not { } tolerance
        ? What
        : $"{What}: baseline {Shown(Was)}, now {Shown(Is)}" + (Difference is { } d ? $", difference {Verifier.Signed(d)}" : "") +
          $", tolerance {Verifier.Format(tolerance)}";

    private static string Shown(double? v) => v == null ? "absent" : Verifier.Format(v);
}

/// <summary>Compares a run with its baseline using the matrix's per-metric tolerances; accepts a run as the new baseline.</summary>
public static class Verifier
{
    /// <summary>results/baselines next to the matrices folder that holds the matrix, else under the current folder.</summary>
    public static string DefaultBaselinePath(MatrixSpec matrix)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(matrix.Path))!;
        string root = Path.GetFileName(dir) == "matrices" ? Path.GetDirectoryName(dir)! : Directory.GetCurrentDirectory();
        return Path.Combine(root, "results", "baselines", matrix.Name + ".csv");
    }

    /// <summary>The run's cells summarised over seeds; every cell and seed of the matrix must be present.</summary>
    public static List<BaselineCell> Summarise(MatrixSpec matrix, IReadOnlyList<CellRow> rows, string resultsDir)
    {
        var bySeed = rows.ToLookup(r => r.CellId);
        var missing = matrix.Cells.SelectMany(c => matrix.Seeds.Where(s => !bySeed[c.Id].Any(r => r.Seed == s)).Select(s => (c, s))).ToArray();
        if (missing.Length > 0)
            throw new InputException($"{resultsDir} lacks {missing.Length} of the matrix's {matrix.Cells.Count * matrix.Seeds.Count} cell runs (e.g. cell {missing[0].c.Id} seed {missing[0].s})",
                $"finish the run with `run {matrix.Path} --out {resultsDir} --resume`");
        return matrix.Cells.Select(c => BaselineCell.From(bySeed[c.Id].Where(r => matrix.Seeds.Contains(r.Seed)).ToArray())).ToList();
    }

    public static List<Movement> Compare(MatrixSpec matrix, IReadOnlyList<BaselineCell> baseline, IReadOnlyList<BaselineCell> now) =>
        Compare(matrix.ToleranceFor, baseline, now);

    /// <summary>The comparison with each metric's tolerance from <paramref name="toleranceFor"/> (e.g. a tolerance map a manifest recorded).</summary>
    public static List<Movement> Compare(Func<string, double> toleranceFor, IReadOnlyList<BaselineCell> baseline, IReadOnlyList<BaselineCell> now)
    {
        var moved = new List<Movement>();
        var current = now.ToDictionary(c => c.CellId);
        var accepted = baseline.ToDictionary(c => c.CellId);
        foreach (var b in baseline)
        {
            if (!current.TryGetValue(b.CellId, out var n))
            {
                moved.Add(new Movement(b, null, "cell missing from the run", null, null, null));
                continue;
            }
            if (b.Status != n.Status) moved.Add(new Movement(b, n, $"status {b.Status} -> {n.Status}", null, null, null));
            foreach (var (metric, was) in b.Metrics)
            {
                double tolerance = toleranceFor(metric);
                if (!n.Metrics.TryGetValue(metric, out double value))
                    moved.Add(new Movement(b, n, metric, was, null, tolerance));
                else if (Math.Abs(value - was) > tolerance || double.IsNaN(value) != double.IsNaN(was))
                    moved.Add(new Movement(b, n, metric, was, value, tolerance));
            }
            foreach (var metric in n.Metrics.Keys.Where(m => !b.Metrics.ContainsKey(m)))
                moved.Add(new Movement(b, n, metric, null, n.Metrics[metric], toleranceFor(metric)));
        }
        foreach (var n in now.Where(n => !accepted.ContainsKey(n.CellId)))
            moved.Add(new Movement(null, n, "cell not in the baseline", null, null, null));
        return moved;
    }

    /// <summary>A fixed-width table of the movements, one line each.</summary>
    public static string Table(IReadOnlyList<Movement> moved)
    {
        var lines = new List<string[]> { new[] { "cell", "attack", "defense", "scenario", "what", "baseline", "now", "delta", "tolerance" } };
        foreach (var m in moved)
        {
            var c = m.Cell;
            lines.Add([m.CellId, c.AttackText, c.Defense, c.Scenario, m.What, Format(m.Was), Format(m.Is), Signed(m.Difference), Format(m.Tolerance)]);
        }
        int[] widths = Enumerable.Range(0, lines[0].Length).Select(col => lines.Max(l => l[col].Length)).ToArray();
        return string.Join("\n", lines.Select(l => string.Join("  ", l.Select((f, col) => f.PadRight(widths[col]))).TrimEnd())) + "\n";
    }

    /// <summary>A value as every verify output shows it: four decimals at most, empty when unknown.</summary>
    internal static string Format(double? v) => v?.ToString("0.####", CultureInfo.InvariantCulture) ?? "";

    /// <summary>A difference with its sign (+0.2, -0.2, 0), empty when unknown.</summary>
    internal static string Signed(double? v) => v?.ToString("+0.####;-0.####;0", CultureInfo.InvariantCulture) ?? "";
}
