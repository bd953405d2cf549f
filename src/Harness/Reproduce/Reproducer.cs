using DefenseBench.Core.Components;
using DefenseBench.Core.Randomness;
using DefenseBench.Harness.Baselines;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Running;
using DefenseBench.Harness.Training;
using DefenseBench.Harness.Utility;

namespace DefenseBench.Harness.Reproduce;

/// <summary>
/// `reproduce`: re-runs a deterministic sample of the cells of a finished results folder, every seed of each sampled
/// cell, from the matrix its manifest names, and compares every metric of every re-run row with the folder's row
/// within the matrix's tolerances (<see cref="Verifier.Compare"/>, row by row so one changed number is not averaged
/// away over seeds). Re-run rows stay in memory: nothing but reproduce.json is written into the folder.
/// </summary>
public sealed class Reproducer(TextWriter log)
{
    public ReproduceReport Reproduce(string folder, double sample, int sampleSeed, string device)
    {
        var results = ResultsFolder.Read(folder);
        var manifest = results.Manifest ?? throw new InputException($"{folder} has no {Manifest.FileName}, so the run it holds cannot be re-run",
            "give a results folder written by `run` (it writes manifest.json)");
        var matrix = Matrix(folder, manifest);
        var present = results.Rows.Select(r => r.CellId).ToHashSet();
        var cells = matrix.Cells.Where(c => present.Contains(c.Id)).ToArray();
        var foreign = results.Rows.FirstOrDefault(r => matrix.Cells.All(c => c.Id != r.CellId));
        if (foreign != null)
            throw new InputException($"{folder}/{CellsCsv.FileName} holds cell {foreign.CellId}, which {matrix.Path} does not have",
                "give the results folder of this matrix's run");
        // A shard holds part of the matrix; a whole run that lacks cells would leave them out of the sample unseen.
        if (manifest.Shard == null && cells.Length < matrix.Cells.Count)
            throw new InputException($"{folder}/{CellsCsv.FileName} lacks {matrix.Cells.Count - cells.Length} of the matrix's {matrix.Cells.Count} cells " +
                                     $"(e.g. cell {matrix.Cells.First(c => !present.Contains(c.Id)).Id})", "give a finished run (`run --resume` completes an interrupted one)");
        var chosen = Sample(cells, sample, sampleSeed);
        var seeds = Seeds(folder, manifest, results.Rows);
        var resolved = DeviceChoice.Resolve(device);
        log.WriteLine($"{matrix.Name}: re-running {chosen.Count} of {cells.Length} cells x {seeds.Count} seeds on {resolved}");

        var rerun = new List<CellRow>();
        using (var utility = new UtilityCache(resolved, log))
        {
            var trainer = new RoundTrainer(log);
            foreach (var (group, seed) in Runner.Plan(chosen, seeds))
                Runner.RunGroup(group, seed, resolved, new HashSet<(string, int)>(), (_, row) => rerun.Add(row), utility, null,
                    new ScoringOptions(matrix.SuccessPsnr), null, trainer);
        }
        var verdicts = chosen.Select(c => Verdict(matrix, c, seeds, results.Rows, rerun)).ToArray();
        return new ReproduceReport(Manifest.BuildInfo().Version, resolved.ToString(), DateTimeOffset.UtcNow, sample, sampleSeed, cells.Length, seeds, verdicts);
    }

    /// <summary>
    /// The cells to re-run: a seeded shuffle (the harness's own random stream) of the run's cells in matrix order, the first
    /// ceil(sample x n) of them (at least one), back in matrix order. The same folder, sample and seed give the same cells.
    /// </summary>
    public static IReadOnlyList<Cell> Sample(IReadOnlyList<Cell> cells, double sample, int seed)
    {
        var order = Enumerable.Range(0, cells.Count).ToArray();
        Rng.For((ulong)seed, "reproduce").Shuffle(order);
        int count = Math.Clamp((int)Math.Ceiling(sample * cells.Count), Math.Min(1, cells.Count), cells.Count);
        return [.. order.Take(count).Order().Select(i => cells[i])];
    }

    /// <summary>The matrix the manifest names, refused when it is missing or differs from the one that ran (hash or harness version).</summary>
    private static MatrixSpec Matrix(string folder, Manifest manifest)
    {
        string source = Path.Combine(folder, Manifest.FileName);
        if (manifest.MatrixPath is not { Length: > 0 } path)
            throw new InputException("names no matrix_path", "give a results folder written by `run`", source);
        if (!File.Exists(path))
            throw new InputException($"names the matrix {path}, which does not exist here",
                "run `reproduce` from the folder the run was started in, with the submitter's matrix file at that path", source);
        var (version, _) = Manifest.BuildInfo();
        // Hashed before it is parsed: a matrix another harness version wrote may not parse here, and the refusal says why.
        string sha = MatrixLoader.Sha256(File.ReadAllBytes(path));
        var differences = new List<string>();
        if (manifest.HarnessVersion != version)
            differences.Add($"the run used harness version {manifest.HarnessVersion}, and this is version {version}: its numbers need not agree");
        if (!string.Equals(sha, manifest.MatrixSha256, StringComparison.OrdinalIgnoreCase))
            differences.Add($"the matrix file {path} has SHA-256 {sha}, and the run used {manifest.MatrixSha256}: the file changed since the run");
        if (differences.Count > 0)
            throw new InputException(string.Join("; and ", differences),
                manifest.HarnessVersion != version ? $"reproduce with defensebench {manifest.HarnessVersion}, and the matrix file as it was when the run was made"
                    : "restore the matrix file as it was when the run was made", source);
        return MatrixLoader.Load(path);
    }

    /// <summary>The run's seeds as the manifest lists them: distinct, each one with rows in cells.csv.</summary>
    private static IReadOnlyList<int> Seeds(string folder, Manifest manifest, IReadOnlyList<CellRow> rows)
    {
        var seeds = manifest.Seeds ?? [];
        var seen = rows.Select(r => r.Seed).ToHashSet();
        if (seeds.Count == 0 || seeds.Distinct().Count() != seeds.Count || seeds.Any(s => !seen.Contains(s)))
            throw new InputException($"lists the seeds [{string.Join(", ", seeds.Take(10))}], which are not the distinct seeds of the rows in {CellsCsv.FileName}",
                "repair manifest.json or give the folder exactly as `run` wrote it", Path.Combine(folder, Manifest.FileName));
        return seeds;
    }

    /// <summary>A verify movement in reproduce's words: the folder's row is what the re-run is held to, not a baseline.</summary>
    private static string Reworded(Movement m) => m switch
    {
        { Baseline: null } => $"row missing from {CellsCsv.FileName}",
        { Now: null } => "row missing from the re-run",
        _ => m.What,
    };

    /// <summary>Every row of the cell, seed by seed, against the folder's row; a seed missing on either side is a moved row.</summary>
    private static CellVerdict Verdict(MatrixSpec matrix, Cell cell, IReadOnlyList<int> seeds, IReadOnlyList<CellRow> recorded, IReadOnlyList<CellRow> rerun)
    {
        var moved = new List<MovedMetric>();
        BaselineCell? described = null;
        foreach (int seed in seeds)
        {
            var was = recorded.Where(r => r.Key == (cell.Id, seed)).Select(r => BaselineCell.From([r])).ToArray();
            var now = rerun.Where(r => r.Key == (cell.Id, seed)).Select(r => BaselineCell.From([r])).ToArray();
            described ??= now.FirstOrDefault() ?? was.FirstOrDefault();
            moved.AddRange(Verifier.Compare(matrix, was, now).Select(m => new MovedMetric(seed, Reworded(m), m.Was, m.Is, m.Tolerance)));
        }
        return new CellVerdict(cell.Id, described?.AttackText ?? cell.Attack.Id, cell.Defense.Canonical, described?.Scenario ?? cell.Scenario.Canonical, moved.Count == 0, moved);
    }
}
