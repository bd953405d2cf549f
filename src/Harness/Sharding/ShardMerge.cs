using DefenseBench.Core.Components;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Sharding;

/// <summary>What a merge wrote: the manifest, the rows, the plots and, when some cell drew reconstructions, their index.</summary>
public sealed record MergeResult(Manifest Manifest, IReadOnlyList<CellRow> Rows, IReadOnlyList<string> Plots, string? Images, bool KeptPrevious);

/// <summary>
/// Joins the folders of a sharded run into one results folder equal to an unsharded run's: every cell and seed of the
/// matrix exactly once, rows in the canonical order, plots drawn from them, a manifest that lists the shards. Refuses
/// anything that would make the union mean something else: shards of different matrices or harness versions, seeds
/// that differ, a shard missing, twice, or not finished, a matrix file changed since.
/// </summary>
public static class ShardMerge
{
    /// <summary>The shard folders named: a folder with a manifest.json is one; any other folder stands for its subfolders that have one.</summary>
    public static IReadOnlyList<string> ShardFolders(IEnumerable<string> folders)
    {
        var found = new List<string>();
        foreach (string folder in folders)
        {
            if (!Directory.Exists(folder)) throw new InputException($"{folder} does not exist", "name the shard folders written by `run --shard`, or the folder that holds them");
            if (new RunFolder(folder).HasManifest)
            {
                found.Add(Path.GetFullPath(folder));
                continue;
            }
            var inside = Directory.GetDirectories(folder).Where(d => new RunFolder(d).HasManifest).Order(StringComparer.Ordinal).ToArray();
            if (inside.Length == 0)
                throw new InputException($"{folder} holds no {Manifest.FileName} and no shard folders with one", "name the shard folders written by `run --shard`, or the folder that holds them");
            found.AddRange(inside.Select(Path.GetFullPath));
        }
        return found.Distinct(StringComparer.Ordinal).ToArray();
    }

    public static MergeResult Merge(IReadOnlyList<string> folders, string outDir, string? matrixPath, IReadOnlyList<string> arguments)
    {
        var shards = ShardFolders(folders).Select(f => (Folder: f, Manifest: Manifest.TryLoad(f)
            ?? throw new InputException($"{new RunFolder(f).Manifest} cannot be read", "re-run that shard with --resume"))).ToArray();
        string target = Path.GetFullPath(outDir);
        if (shards.Any(s => s.Folder == target)) throw new InputException($"--out {outDir} is one of the shard folders", "merge into a new folder");
        CheckSameRun(shards);
        CheckComplete(shards);

        var first = shards[0].Manifest;
        var matrix = LoadMatrix(matrixPath ?? first.MatrixPath, first) with { Seeds = first.Seeds };
        var rows = new List<CellRow>();
        var grids = new List<string>();
        foreach (var (folder, _) in shards)
        {
            var shard = new RunFolder(folder);
            var shardRows = ResultsFolder.ReadCells(shard.Cells, mayBeEmpty: true);
            rows.AddRange(shardRows);
            grids.AddRange(shardRows.Select(shard.GridOf).Where(File.Exists));
        }
        CheckRows(matrix, rows);
        rows = RowOrder.Canonical(rows, matrix.Cells.Select(c => c.Id).ToArray());

        // Taken once the shards check out, so a refused merge leaves no folder behind.
        using var folderLock = ResultsLock.Acquire(target, "defensebench merge");
        var run = new RunFolder(target);
        bool kept = run.SetAsidePrevious();
        CellsCsv.Write(run.Cells, rows);
        var manifest = first with
        {
            Cells = matrix.Cells.Count,
            Device = string.Join(",", shards.Select(s => s.Manifest.Device).Distinct()),
            BatchSeeds = shards.All(s => s.Manifest.BatchSeeds),
            Host = HostInfo.Current(),
            Started = shards.Min(s => s.Manifest.Started),
            Finished = shards.Max(s => s.Manifest.Finished),
            Resumed = shards.SelectMany(s => s.Manifest.Resumed).Order().ToArray(),
            Rows = rows.Count,
            FailedRows = rows.Count(r => r.Status == CellRow.Failed),
            Arguments = arguments,
            Shard = null,
            MergedFrom = shards.Select(s => new MergedShard(s.Folder, s.Manifest.Shard, s.Manifest.Device, s.Manifest.Host,
                s.Manifest.Started, s.Manifest.Finished, s.Manifest.Rows)).ToArray(),
        };
        manifest.Save(target);
        if (Directory.Exists(run.Plots)) Directory.Delete(run.Plots, recursive: true);
        // Each shard drew the reconstruction grids of its own cells; the merged folder holds them all, indexed once.
        if (Directory.Exists(run.Images)) Directory.Delete(run.Images, recursive: true);
        if (grids.Count > 0) Directory.CreateDirectory(run.Images);
        foreach (string grid in grids) File.Copy(grid, Path.Combine(run.Images, Path.GetFileName(grid)));
        var exported = RunExporters.ExportAll(rows, run);
        return new MergeResult(manifest, rows, exported.Plots, exported.ImageIndex, kept);
    }

    private static void CheckSameRun(IReadOnlyList<(string Folder, Manifest Manifest)> shards)
    {
        var (firstFolder, first) = shards[0];
        foreach (var (folder, m) in shards.Skip(1))
        {
            if (m.Matrix != first.Matrix || m.MatrixSha256 != first.MatrixSha256)
                throw new InputException($"{folder} ran matrix '{m.Matrix}' ({Short(m.MatrixSha256)}) and {firstFolder} ran '{first.Matrix}' ({Short(first.MatrixSha256)}): different matrices",
                    "merge only the shards of one run of one matrix file");
            if (m.HarnessVersion != first.HarnessVersion || m.GitCommit != first.GitCommit)
                throw new InputException($"{folder} was written by harness {Version(m)} and {firstFolder} by {Version(first)}: different harness versions",
                    "re-run every shard with the same build of the harness, then merge");
            if (!m.Seeds.SequenceEqual(first.Seeds))
                throw new InputException($"{folder} ran seeds [{string.Join(", ", m.Seeds)}] and {firstFolder} ran [{string.Join(", ", first.Seeds)}]",
                    "run every shard with the same --seeds, then merge");
        }
    }

    private static void CheckComplete(IReadOnlyList<(string Folder, Manifest Manifest)> shards)
    {
        ShardInfo ShardOf(Manifest m) => m.Shard ?? new ShardInfo(0, 1, m.Cells);
        int count = ShardOf(shards[0].Manifest).Count;
        foreach (var (folder, m) in shards)
            if (ShardOf(m).Count != count)
                throw new InputException($"{folder} is shard {ShardOf(m).Index}/{ShardOf(m).Count} and {shards[0].Folder} one of {count}: different shard counts",
                    "merge the shards of one sharded run (the same n in every --shard i/n)");
        foreach (var twice in shards.GroupBy(s => ShardOf(s.Manifest).Index).Where(g => g.Count() > 1))
            throw new InputException($"shard {twice.Key}/{count} is there twice: {string.Join(" and ", twice.Select(s => s.Folder))}", "name each shard folder once");
        var missing = Enumerable.Range(0, count).Except(shards.Select(s => ShardOf(s.Manifest).Index)).ToArray();
        if (missing.Length > 0)
            throw new InputException($"shard{(missing.Length > 1 ? "s" : "")} {string.Join(", ", missing.Select(i => $"{i}/{count}"))} missing",
                "run the missing shards (run MATRIX --shard i/n --out DIR), then merge every shard folder");
        foreach (var (folder, m) in shards.Where(s => s.Manifest.Finished == null))
            throw new InputException($"shard {ShardOf(m).Index}/{count} in {folder} has not finished (it was stopped or is still running)",
                $"rerun its command with --resume (it continues where it stopped), then merge");
    }

    private static MatrixSpec LoadMatrix(string path, Manifest first)
    {
        if (!File.Exists(path))
            throw new InputException($"the matrix file {path} that the shards ran is not here", "pass --matrix FILE with that matrix file");
        var matrix = MatrixLoader.Load(path);
        if (matrix.Sha256 != first.MatrixSha256)
            throw new InputException($"{path} ({Short(matrix.Sha256)}) is not the matrix file the shards ran ({Short(first.MatrixSha256)}); it has changed since",
                "pass --matrix FILE with the file as the shards ran it, or re-run the shards");
        return matrix;
    }

    private static void CheckRows(MatrixSpec matrix, IReadOnlyList<CellRow> rows)
    {
        var twice = rows.GroupBy(r => r.Key).FirstOrDefault(g => g.Count() > 1);
        if (twice != null)
            throw new InputException($"cell {twice.Key.CellId} seed {twice.Key.Seed} is in more than one shard", "merge the shards of one sharded run only");
        var expected = matrix.Cells.SelectMany(c => matrix.Seeds.Select(s => (c.Id, s))).ToHashSet();
        var extra = rows.FirstOrDefault(r => !expected.Contains(r.Key));
        if (extra != null)
            throw new InputException($"cell {extra.CellId} seed {extra.Seed} is not a cell run of matrix {matrix.Name}", "merge the shards of one run of that matrix only");
        if (rows.Count < expected.Count)
        {
            var have = rows.Select(r => r.Key).ToHashSet();
            var (cell, seed) = expected.First(k => !have.Contains(k));
            throw new InputException($"the shards hold {rows.Count} of the matrix's {expected.Count} cell runs (e.g. cell {cell} seed {seed} is in none)",
                "rerun the shard that should hold it with --resume, then merge");
        }
    }

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] : sha;

    private static string Version(Manifest m) => m.HarnessVersion + (m.GitCommit is { } c ? $" ({Short(c)})" : "");
}
