using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Publishing;

namespace DefenseBench.Harness.Tests.Fuzz;

/// <summary>One generated results folder: its name, how to make it from a good one, the words the error must contain (null: valid).</summary>
public sealed record CorpusFolder(string Name, Action<string> Damage, string? Expect);

/// <summary>
/// Results folders with every cells.csv and manifest.json defect, made from the committed small run: each command
/// that reads a results folder must answer exit 0 or 2 naming the file, never a stack trace, never a silent answer.
/// </summary>
public static class ResultsCorpus
{
    private static string Cells(string folder) => Path.Combine(folder, CellsCsv.FileName);

    private static void Lines(string folder, Func<List<string>, IEnumerable<string>> change)
    {
        var lines = File.ReadAllText(Cells(folder)).Split('\n').ToList();
        lines.RemoveAt(lines.Count - 1); // the empty string after the final line end
        File.WriteAllText(Cells(folder), string.Join('\n', change(lines)) + "\n");
    }

    /// <summary>A copy of the small run in <paramref name="folder"/>.</summary>
    public static void CopyGood(string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (string file in Directory.GetFiles(LeaderboardTests.SmallRun)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
    }

    public static IEnumerable<CorpusFolder> Defects() =>
    [
        new("valid", _ => { }, null),
        new("empty-cells", f => File.WriteAllText(Cells(f), ""), "is empty (0 bytes)"),
        new("header-only", f => Lines(f, l => l.Take(1)), "holds a header but no rows"),
        new("duplicate-row", f => Lines(f, l => [.. l, l[1]]), "appears again (first on line 2)"),
        new("duplicate-row-edited", f => Lines(f, l => [.. l, l[1].Replace(",ok,,1,", ",ok,,0.99,", StringComparison.Ordinal)]), "appears again"),
        new("cut-off-row", f => File.WriteAllText(Cells(f), File.ReadAllText(Cells(f))[..^9]), "the last row is cut off"),
        new("open-quote-swallows-rows", f => Lines(f, l => l.Select((x, i) => i == 3 ? x + "\"" : x)), "a quote opened on line 4"),
        new("open-quote-to-the-end", f => File.AppendAllText(Cells(f), File.ReadAllLines(Cells(f))[1][..^1] + ",\"\n"), "is never closed"),
        new("open-quote-at-field-start", f => Lines(f, l => l.Select((x, i) => i == 5 ? x.Replace(",none,", ",\"none,", StringComparison.Ordinal) : x)), "quote"),
        new("stray-quote", f => Lines(f, l => l.Select((x, i) => i == 2 ? x.Replace(",none,", ",no\"ne,", StringComparison.Ordinal) : x)), "a quote inside an unquoted field"),
        new("bad-number", f => Lines(f, l => l.Select((x, i) => i == 4 ? x.Replace(",4,10,", ",four,10,", StringComparison.Ordinal) : x)), "cannot be read"),
        new("bad-status", f => Lines(f, l => l.Select((x, i) => i == 2 ? x.Replace(",ok,", ",okay,", StringComparison.Ordinal) : x)), "status 'okay'"),
        new("no-cell-id", f => Lines(f, l => l.Select((x, i) => i == 2 ? x[x.IndexOf(',', StringComparison.Ordinal)..] : x)), "has no cell_id"),
        new("missing-column", f => Lines(f, l => l.Select(x => x[(x.IndexOf(',', StringComparison.Ordinal) + 1)..])), "lacks columns"),
        new("binary-garbage", f => File.WriteAllBytes(Cells(f), [0xff, 0xfe, 0, 1, 2, (byte)'\n']), "cells.csv"),
        new("cells-is-folder", f => { File.Delete(Cells(f)); Directory.CreateDirectory(Cells(f)); }, "is a folder, not a file"),
        new("no-cells", f => File.Delete(Cells(f)), "does not exist"),
        new("manifest-not-json", f => File.WriteAllText(Path.Combine(f, Manifest.FileName), "not json{"), "manifest.json"),
        new("manifest-null", f => File.WriteAllText(Path.Combine(f, Manifest.FileName), "null"), "is null"),
        new("manifest-wrong-types", f => File.WriteAllText(Path.Combine(f, Manifest.FileName), "{\"cells\": \"many\"}"), "is not a manifest"),
        new("manifest-array", f => File.WriteAllText(Path.Combine(f, Manifest.FileName), "[1, 2]"), "is not a manifest"),
        new("manifest-removed", f => File.Delete(Path.Combine(f, Manifest.FileName)), null),
        new("blank-last-line", f => File.AppendAllText(Cells(f), "\n"), null),
    ];
}
