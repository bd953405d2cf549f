using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Harness.Utility;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Sharding;
using DefenseBench.Harness.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Running;

public sealed record RunOptions(string MatrixPath, string? OutDir = null, string Device = "auto", int? Seeds = null, bool Resume = false,
    ShardSpec? Shard = null, string? ExportUpdates = null, bool Yes = false, bool? Batch = null)
{
    /// <summary>
    /// Whether a reconstruction cell's seeds are solved together: as asked (`--batch-seeds true|false`), else on a CUDA
    /// device only. A GPU is bound by kernel launches at B = 1, so it gains most from batching; on a CPU shared with other
    /// busy processes, libtorch's OpenMP threads spin and a batched run can be several times slower (README.md).
    /// </summary>
    public static bool BatchSeeds(bool? requested, DeviceType device) => requested ?? device == DeviceType.CUDA;
}

/// <summary>
/// Runs a matrix: cells grouped by scenario and seed so the victims (model, private batches, clean uploads) are built
/// once and shared by every defence and attack of that scenario (with <see cref="RunOptions.BatchSeeds"/>, `run --batch-seeds`,
/// a reconstruction cell's seeds solved together); rows appended and flushed as cells finish; plots at the end. A crash
/// in one cell becomes its row; the run goes on.
/// </summary>
public sealed class Runner(TextWriter output, TextWriter log)
{
    public int Run(RunOptions options, IReadOnlyList<string> arguments)
    {
        var matrix = MatrixLoader.Load(options.MatrixPath);
        if (options.Seeds is { } n) matrix = matrix.WithSeeds(n);
        var device = DeviceChoice.Resolve(options.Device);
        bool batch = RunOptions.BatchSeeds(options.Batch, device.type);
        var shard = options.Shard ?? ShardSpec.Whole;
        var cells = ShardPlan.Select(matrix.Cells, shard);
        CheckSize((long)cells.Count * matrix.Seeds.Count, cells.Count, matrix.Seeds.Count, options.Yes);
        string outDir = options.OutDir ?? Path.Combine("results", matrix.Name);
        try
        {
            Directory.CreateDirectory(outDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"--out {outDir} cannot be used as the results folder ({e.Message})", "give --out a folder path that can be created and written");
        }
        // Held to the end: a second writer into this folder would interleave or lose rows.
        using var folderLock = ResultsLock.Acquire(outDir, string.Join(' ', ["defensebench", .. arguments]));
        if (folderLock.TakenOver is { } stale) log.WriteLine($"took over the lock of {outDir} left by {stale}, which ended without releasing it");
        var run = new RunFolder(outDir);
        string cellsPath = run.Cells;

        var done = new HashSet<(string, int)>();
        var resumedAt = new List<DateTimeOffset>();
        // Only a resumed run reads what the folder holds; a fresh run sets it aside unread.
        var previous = options.Resume ? Manifest.TryLoad(outDir) : null;
        if (run.HasCells)
        {
            if (options.Resume) done = Resume(matrix, shard, outDir, cellsPath, previous, resumedAt);
            else SetAside(run);
        }
        var (version, commit) = Manifest.BuildInfo();
        var manifest = new Manifest
        {
            HarnessVersion = version,
            GitCommit = commit,
            Matrix = matrix.Name,
            MatrixPath = matrix.Path,
            MatrixSha256 = matrix.Sha256,
            SuiteSha256 = Suite.Sha256(matrix),
            Tolerance = matrix.Tolerance,
            Seeds = matrix.Seeds,
            Cells = matrix.Cells.Count,
            Device = device.ToString(),
            BatchSeeds = batch,
            TorchBackend = Manifest.Backend(),
            Packages = Manifest.PackageVersions(),
            Started = options.Resume && previous != null ? previous.Started : DateTimeOffset.Now,
            Resumed = resumedAt,
            Arguments = arguments,
            Shard = shard.IsWhole ? null : new ShardInfo(shard.Index, shard.Count, cells.Count),
            ExecDefenses = ExecRecord.All(matrix.Cells.SelectMany(c => c.Defense.ExecStages)),
            ExecAttacks = ExecRecord.All(matrix.Cells.Select(c => c.Attack.Exec).OfType<Defenses.External.ExecSettings>()),
        };
        manifest.Save(outDir);

        int total = cells.Count * matrix.Seeds.Count;
        var progress = ProgressReporter.For(log, total);
        var ids = cells.Select(c => c.Id).ToHashSet();
        progress.Skip(done.Count(k => ids.Contains(k.Item1)));
        log.WriteLine($"{matrix.Name}: {cells.Count} cells" + (shard.IsWhole ? "" : $" (shard {shard} of {matrix.Cells.Count})") +
                      $" x {matrix.Seeds.Count} seeds on {device}" + (done.Count > 0 ? $", {done.Count} rows already done" : "") + $" -> {outDir}");
        using (var appender = CellsCsv.Append(cellsPath))
        using (var utility = new UtilityCache(device, log))
        {
            var trainer = new RoundTrainer(log);
            foreach (var group in Groups(cells))
                RunGroup(group, matrix.Seeds, device, done, (cell, row) =>
                {
                    appender.Write(row);
                    progress.Report(Label(cell, row.Seed), row.Status, row.AttackMs);
                }, utility, options.ExportUpdates, new ScoringOptions(matrix.SuccessPsnr), run.Images, trainer, batch);
        }

        var rows = RowOrder.Canonical(ResultsFolder.ReadCells(cellsPath, mayBeEmpty: true), matrix.Cells.Select(c => c.Id).ToArray());
        if (Incomplete(rows, cells, matrix.Seeds) is { } problem)
        {
            log.WriteLine($"error: {cellsPath}: {problem}; cells.csv was left as it is: run again with --resume to complete it");
            return 1;
        }
        CellsCsv.Write(cellsPath, rows);
        manifest = manifest with
        {
            Finished = DateTimeOffset.Now,
            Rows = rows.Count,
            FailedRows = rows.Count(r => r.Status == CellRow.Failed),
        };
        manifest.Save(outDir);
        var exported = RunExporters.ExportAll(rows, run);
        Summarise(rows, run, exported.Plots.Count, exported.ImageIndex);
        return manifest.FailedRows > 0 ? 1 : 0;
    }

    /// <summary>Above this many cell runs (cells x seeds) `run` asks for --yes: a sweep that size takes hours to days.</summary>
    public const int ConfirmAbove = 10_000;

    /// <summary>The most cell runs one `run` takes, with --yes or without; a larger matrix runs as shards.</summary>
    public const int MaxCellRuns = 1_000_000;

    private static void CheckSize(long runs, int cells, int seeds, bool yes)
    {
        string size = $"this run holds {cells:N0} cells x {seeds:N0} seeds = {runs:N0} cell runs";
        if (runs > MaxCellRuns)
            throw new InputException($"{size}, more than the {MaxCellRuns:N0} one run takes",
                $"split it with --shard i/n (n ≥ {(runs + MaxCellRuns - 1) / MaxCellRuns}), or sweep fewer values");
        if (runs > ConfirmAbove && !yes)
            throw new InputException($"{size} (more than {ConfirmAbove:N0})", "pass --yes to run them all, or sweep fewer values");
    }

    /// <summary>
    /// Why the rows are not every cell and seed of the run exactly once (null when they are): a row missing, or a row
    /// of a cell or seed the run does not hold. Checked before a run exits 0, so no lost row goes unnoticed.
    /// </summary>
    internal static string? Incomplete(IReadOnlyList<CellRow> rows, IReadOnlyList<Cell> cells, IReadOnlyList<int> seeds)
    {
        var expected = cells.SelectMany(c => seeds.Select(seed => (c.Id, seed))).ToHashSet();
        var present = rows.Select(r => r.Key).ToHashSet();
        var missing = expected.Where(k => !present.Contains(k)).ToList();
        if (missing.Count > 0)
            return $"{missing.Count} of {expected.Count} cell runs are missing (e.g. cell {missing[0].Item1} seed {missing[0].Item2})";
        var foreign = rows.FirstOrDefault(r => !expected.Contains(r.Key));
        return foreign == null ? null : $"holds a row (cell {foreign.CellId} seed {foreign.Seed}) that is not a cell run of this matrix";
    }

    /// <summary>The order cells run in: grouped by scenario (victims built once per group and seed), then by seed.</summary>
    internal static IEnumerable<(Cell[] Cells, int Seed)> Plan(IReadOnlyList<Cell> cells, IReadOnlyList<int> seeds) =>
        Groups(cells).SelectMany(group => seeds.Select(seed => (group, seed)));

    /// <summary>The cells grouped by scenario, in the order their first cell comes.</summary>
    internal static IEnumerable<Cell[]> Groups(IReadOnlyList<Cell> cells) => cells.GroupBy(c => c.Scenario.Canonical).Select(group => group.ToArray());

    /// <summary>Runs the cells of one scenario for one seed on shared victims, skipping those in <paramref name="done"/>.</summary>
    internal static void RunGroup(Cell[] cells, int seed, Device device, IReadOnlySet<(string, int)> done, Action<Cell, CellRow> finished,
        UtilityCache? utility = null, string? exportFolder = null, ScoringOptions? scoring = null, string? imageFolder = null,
        RoundTrainer? trainer = null) =>
        RunGroup(cells, [seed], device, done, finished, utility, exportFolder, scoring, imageFolder, trainer, batch: false);

    /// <summary>
    /// Runs the cells of one scenario for <paramref name="seeds"/>, skipping the cell runs in <paramref name="done"/>.
    /// Each seed's victims (model, private batches, clean uploads) are built once and shared by every defence and attack.
    /// With <paramref name="batch"/>, a reconstruction cell at round 0 solves its pending seeds together
    /// (<see cref="CellExecutor.ExecuteMany"/>): the victims of up to <see cref="SeedVictims.MaxBatch"/> seeds and
    /// <see cref="SeedVictims.MaxBatchBytes"/> are held at once, and the group runs batch by batch. Otherwise one seed at a
    /// time. Per seed, the cells at round 0 run first, in order; then, defence by defence, the cells at later rounds run
    /// on one training under that defence, carried on from round to round in ascending order (<see cref="RoundTrainer"/>),
    /// so every attack of a (scenario, seed, defence, round) shares one trained state and a sweep over rounds trains once
    /// up to its largest.
    /// </summary>
    internal static void RunGroup(Cell[] cells, IReadOnlyList<int> seeds, Device device, IReadOnlySet<(string, int)> done, Action<Cell, CellRow> finished,
        UtilityCache? utility, string? exportFolder, ScoringOptions? scoring, string? imageFolder, RoundTrainer? trainer, bool batch)
    {
        var pending = seeds.Where(seed => cells.Any(c => !done.Contains((c.Id, seed)))).ToArray();
        var batched = cells.Where(c => batch && SeedVictims.Batches(c)).Select(c => c.Id).ToHashSet();
        int most = batched.Count > 0 ? SeedVictims.MaxBatch : 1;
        trainer ??= new RoundTrainer();
        for (int next = 0; next < pending.Length;)
        {
            using var scope = torch.NewDisposeScope();
            var victims = new List<SeedVictims>();
            long bytes = 0;
            while (next < pending.Length && victims.Count < most && bytes < SeedVictims.MaxBatchBytes)
            {
                int seed = pending[next++];
                if (Victims(cells, seed, device, done, finished) is not { } built) continue;
                victims.Add(built);
                bytes += built.Bytes;
            }
            foreach (var cell in cells.Where(c => c.Round == 0))
            {
                var todo = victims.Where(v => !done.Contains((cell.Id, v.Seed))).ToArray();
                var rows = todo.Length > 1 && batched.Contains(cell.Id)
                    ? CellExecutor.ExecuteMany(cell, todo, device, utility, exportFolder, scoring, imageFolder)
                    : todo.Select(v => CellExecutor.Execute(cell, v.Seed, v.Round, v.CleanUploads, device, utility, exportFolder, scoring, imageFolder)).ToArray();
                foreach (var row in rows) finished(cell, row);
            }
            foreach (var v in victims)
                LaterRounds(cells.Where(c => c.Round > 0 && !done.Contains((c.Id, v.Seed))).ToArray(), v, device, finished, utility, exportFolder,
                    scoring, imageFolder, trainer);
        }
    }

    /// <summary>The victims of <paramref name="seed"/>, or null when building them failed (then every pending cell of the seed has its failed row).</summary>
    private static SeedVictims? Victims(Cell[] cells, int seed, Device device, IReadOnlySet<(string, int)> done, Action<Cell, CellRow> finished)
    {
        try
        {
            var spec = cells[0].Scenario;
            var round = VictimRound.Create(spec, DatasetCatalog.Open(spec.Dataset, SyntheticClasses(spec)), seed, device);
            return new SeedVictims(seed, round, round.Uploads());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            foreach (var cell in cells.Where(c => !done.Contains((c.Id, seed)))) finished(cell, CellExecutor.Failed(CellExecutor.Describe(cell, seed, device), e));
            return null;
        }
    }

    /// <summary>The cells of one seed at rounds after 0, defence by defence, each defence's training carried on from round to round.</summary>
    private static void LaterRounds(Cell[] pending, SeedVictims victims, Device device, Action<Cell, CellRow> finished, UtilityCache? utility,
        string? exportFolder, ScoringOptions? scoring, string? imageFolder, RoundTrainer trainer)
    {
        int seed = victims.Seed;
        foreach (var defence in pending.GroupBy(c => c.Defense.Canonical))
        {
            using var defenceScope = torch.NewDisposeScope();
            TrainedRound? training = null;
            Exception? failure = null;
            try
            {
                training = trainer.Start(victims.Round, defence.First().Defense.Create());
                foreach (var atRound in defence.GroupBy(c => c.Round).OrderBy(g => g.Key))
                {
                    using var roundScope = torch.NewDisposeScope();
                    VictimRound? trained = null;
                    IReadOnlyList<Update>? uploads = null;
                    if (failure == null)
                    {
                        try
                        {
                            trainer.Advance(training, atRound.Key, defence.Key);
                            trained = training.Victims;
                            uploads = trained.Uploads();
                        }
                        catch (Exception e) when (e is not OutOfMemoryException)
                        {
                            failure = e; // every later round of this training fails the same way
                        }
                    }
                    foreach (var cell in atRound)
                        finished(cell, failure != null
                            ? TrainingFailed(CellExecutor.Describe(cell, seed, device), failure)
                            : CellExecutor.Execute(cell, seed, trained!, uploads!, device, utility, exportFolder, scoring, imageFolder, training.ForkSessions));
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException && training == null)
            {
                foreach (var cell in defence) finished(cell, CellExecutor.Failed(CellExecutor.Describe(cell, seed, device), e));
            }
            finally
            {
                training?.Dispose();
            }
        }
    }

    /// <summary>A training that diverged leaves its later rounds not-applicable with the reason; any other failure fails them.</summary>
    private static CellRow TrainingFailed(CellRow row, Exception e) =>
        e is NotApplicableException ? row with { Status = CellRow.NotApplicable, Error = e.Message } : CellExecutor.Failed(row, e);

    /// <summary>The num_classes override a synthetic dataset was opened with (real datasets fix their own).</summary>
    private static int? SyntheticClasses(ScenarioSpec spec) => DatasetCatalog.IsSynthetic(spec.Dataset) ? spec.NumClasses : null;

    private static string Label(Cell cell, int seed) =>
        $"{cell.Block} {cell.Attack.Exec?.Canonical ?? cell.Attack.Id} {cell.Defense.Canonical} b{cell.Scenario.BatchSize}{(cell.Round == 0 ? "" : $" round {cell.Round}")} seed {seed}";

    private HashSet<(string, int)> Resume(MatrixSpec matrix, ShardSpec shard, string outDir, string cellsPath, Manifest? previous, List<DateTimeOffset> resumed)
    {
        if (previous != null && (previous.Matrix != matrix.Name || previous.MatrixSha256 != matrix.Sha256))
            throw new InputException($"{outDir} holds results of matrix '{previous.Matrix}' ({previous.MatrixSha256[..12]}), not of {matrix.Path} ({matrix.Sha256[..12]})",
                "resume with the same matrix file, or write to a new folder with --out");
        var had = previous?.Shard is { } s ? new ShardSpec(s.Index, s.Count) : ShardSpec.Whole;
        if (previous != null && had != shard)
            throw new InputException($"{outDir} holds {(had.IsWhole ? "an unsharded run" : $"shard {had}")}, not {(shard.IsWhole ? "an unsharded run" : $"shard {shard}")}",
                "resume with the same --shard, or write to a new folder with --out");
        var rows = CellsCsv.Read(cellsPath, out bool truncated);
        if (truncated)
        {
            // The last row was cut off by the interruption: drop it, and its cell runs again.
            CellsCsv.Write(cellsPath, rows);
            log.WriteLine("resume: dropped an incomplete last row left by the interruption");
        }
        resumed.AddRange(previous?.Resumed ?? []);
        resumed.Add(DateTimeOffset.Now);
        return rows.Select(r => r.Key).ToHashSet();
    }

    /// <summary>A fresh run into a folder with results keeps the old ones as *.prev.* rather than deleting them.</summary>
    private void SetAside(RunFolder run)
    {
        if (run.SetAsidePrevious())
            log.WriteLine($"{run} held an earlier run: {RunFolder.KeptPrevious} (use --resume to continue a run instead)");
    }

    private void Summarise(List<CellRow> rows, RunFolder run, int plots, string? imageIndex)
    {
        int failed = rows.Count(r => r.Status == CellRow.Failed);
        int notApplicable = rows.Count(r => r.Status == CellRow.NotApplicable);
        output.WriteLine($"{rows.Count} rows ({rows.Count - failed - notApplicable} ok, {notApplicable} not-applicable, {failed} failed) in {run.Cells}");
        output.WriteLine($"{plots} plots in {run.Plots}");
        if (imageIndex != null) output.WriteLine($"reconstructions: {imageIndex}");
        foreach (var row in rows.Where(r => r.Status == CellRow.Failed).Take(5))
            output.WriteLine($"  failed: {row.CellId} {row.Attack} {row.Defense} seed {row.Seed}: {row.Error}");
    }
}
