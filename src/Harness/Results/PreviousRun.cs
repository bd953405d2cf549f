namespace DefenseBench.Harness.Results;

/// <summary>What a results folder held before a command wrote a new run into it: kept as *.prev.* rather than deleted.</summary>
public static class PreviousRun
{
    /// <summary>
    /// Moves cells.csv, manifest.json, plots/ and images/ to cells.prev.csv, manifest.prev.json, plots.prev/ and
    /// images.prev/ (replacing older ones); returns whether there was a run to keep.
    /// </summary>
    public static bool SetAside(string folder)
    {
        if (!File.Exists(Path.Combine(folder, CellsCsv.FileName))) return false;
        foreach (var (name, prev) in new[] { (CellsCsv.FileName, "cells.prev.csv"), (Manifest.FileName, "manifest.prev.json") })
        {
            string path = Path.Combine(folder, name);
            if (File.Exists(path)) File.Move(path, Path.Combine(folder, prev), overwrite: true);
        }
        foreach (string sub in new[] { "plots", Running.Runner.ImagesFolder })
        {
            string current = Path.Combine(folder, sub), previous = current + ".prev";
            if (!Directory.Exists(current)) continue;
            if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
            Directory.Move(current, previous);
        }
        return true;
    }

    public const string Kept = "kept as cells.prev.csv, manifest.prev.json, plots.prev/ and images.prev/";
}
