namespace DefenseBench.Harness.Results;

/// <summary>
/// The layout of a run folder, in one place: cells.csv, manifest.json, plots/, images/ (reconstruction grids and
/// their index.html) and the reports written beside them. Every command that reads or writes a run folder (run, plot,
/// merge, leaderboard, recommend, verify) finds its files here, so a file can move without a hunt through the tree.
/// </summary>
public sealed record RunFolder(string Root)
{
    /// <summary>The subfolder of plots (PNG and SVG).</summary>
    public const string PlotsName = "plots";

    /// <summary>The subfolder of reconstruction pictures and their index.html.</summary>
    public const string ImagesName = "images";

    /// <summary>The HTML page in images/ that shows every reconstruction grid with its cell.</summary>
    public const string ImageIndexName = "index.html";

    public string Cells => Path.Combine(Root, CellsCsv.FileName);
    public string Manifest => Path.Combine(Root, Results.Manifest.FileName);
    public string Plots => Path.Combine(Root, PlotsName);
    public string Images => Path.Combine(Root, ImagesName);
    public string ImageIndex => Path.Combine(Images, ImageIndexName);

    /// <summary>A report written beside cells.csv (leaderboard.md, leaderboard.html, ...).</summary>
    public string Report(string fileName) => Path.Combine(Root, fileName);

    public bool HasCells => File.Exists(Cells);
    public bool HasManifest => File.Exists(Manifest);

    /// <summary>File name of a cell and seed's reconstruction grid inside images/.</summary>
    public static string GridFileName(string cellId, int seed) => $"{cellId}_seed{seed}.png";

    /// <summary>Where a cell and seed's grid is written (the cell id comes from the matrix, not from a file).</summary>
    public string GridOf(string cellId, int seed) => Path.Combine(Images, GridFileName(cellId, seed));

    /// <summary>Where the grid of a row read from cells.csv lies; its cell id is data, so the name is checked.</summary>
    public string GridOf(CellRow row) =>
        SafePath.Inside(Images, GridFileName(row.CellId, row.Seed), $"{CellsCsv.FileName} (cell_id of a row)");

    /// <summary>
    /// What the folder held before a command wrote a new run into it is kept as *.prev.* rather than deleted: moves
    /// cells.csv, manifest.json, plots/ and images/ to cells.prev.csv, manifest.prev.json, plots.prev/ and images.prev/
    /// (replacing older ones); returns whether there was a run to keep.
    /// </summary>
    public bool SetAsidePrevious()
    {
        if (!HasCells) return false;
        foreach (var (path, prev) in new[] { (Cells, "cells.prev.csv"), (Manifest, "manifest.prev.json") })
            if (File.Exists(path)) File.Move(path, Path.Combine(Root, prev), overwrite: true);
        foreach (string current in new[] { Plots, Images })
        {
            string previous = current + ".prev";
            if (!Directory.Exists(current)) continue;
            if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
            Directory.Move(current, previous);
        }
        return true;
    }

    public const string KeptPrevious = "kept as cells.prev.csv, manifest.prev.json, plots.prev/ and images.prev/";

    public override string ToString() => Root;
}
