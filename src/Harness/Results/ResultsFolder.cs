using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Results;

/// <summary>
/// A finished results folder as every command that reads one sees it (plot, leaderboard, recommend, verify, merge):
/// cells.csv and, when present, manifest.json, validated. A folder may come from someone else, so nothing in it is
/// taken on trust: an empty or cut-off file, an unbalanced quote that would swallow rows, a row that cannot be read,
/// a cell and seed given twice (which would narrow intervals and move ranks), and a manifest that is not JSON are
/// input errors naming the file and line.
/// </summary>
public sealed record ResultsFolder(string Folder, IReadOnlyList<CellRow> Rows, Manifest? Manifest)
{
    public static ResultsFolder Read(string folder)
    {
        if (File.Exists(folder)) throw new InputException($"{folder} is a file, not a results folder", "give the folder that holds cells.csv");
        if (!Directory.Exists(folder)) throw new InputException($"{folder} does not exist, so neither does its {CellsCsv.FileName}", "give a results folder written by `run`");
        return new ResultsFolder(folder, ReadCells(new RunFolder(folder).Cells), Manifest.TryLoad(folder));
    }

    /// <summary>
    /// The rows of a finished cells.csv, every defect an <see cref="InputException"/> naming the file and line. Only
    /// a shard folder may hold no rows (<paramref name="mayBeEmpty"/>): a shard can get no cell.
    /// </summary>
    public static List<CellRow> ReadCells(string path, bool mayBeEmpty = false)
    {
        const string Rerun = "repair the file, or re-run the matrix (`run --resume` completes an interrupted run)";
        if (Directory.Exists(path)) throw new InputException($"{path} is a folder, not a file", "give a results folder whose cells.csv is a file");
        if (!File.Exists(path)) throw new InputException($"{path} does not exist", "give a results folder written by `run`");
        string text = File.ReadAllText(path);
        if (text.Length == 0) throw new InputException("is empty (0 bytes): no header and no rows", Rerun, path);
        var starts = CsvRecords.StartLines(text, path);
        if (!text.EndsWith('\n'))
            throw new InputException("the last row is cut off (no line end): the run was interrupted while writing it", Rerun, path, starts[^1]);
        var rows = CellsCsv.Read(path);
        if (rows.Count == 0 && !mayBeEmpty) throw new InputException("holds a header but no rows", Rerun, path, 1);
        if (starts.Count - 1 != rows.Count)
            throw new InputException($"holds {starts.Count - 1} records but {rows.Count} rows could be read", Rerun, path);
        var seen = new Dictionary<(string, int), int>();
        for (int i = 0; i < rows.Count; i++)
        {
            int line = starts[i + 1];
            var row = rows[i];
            if (row.Status is not (CellRow.Ok or CellRow.Failed or CellRow.NotApplicable))
                throw new InputException($"row of cell {row.CellId} has status '{row.Status}'", $"write ok, failed or not-applicable; {Rerun}", path, line);
            if (!seen.TryAdd(row.Key, line))
                throw new InputException($"cell {row.CellId} seed {row.Seed} appears again (first on line {seen[row.Key]}); a repeated row would count twice in every mean and interval",
                    $"delete one of the two rows; {Rerun}", path, line);
        }
        return rows;
    }
}
