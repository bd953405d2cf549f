using System.Diagnostics;
using System.Globalization;
using System.Text;
using DefenseBench.Core.Metrics;
using DefenseBench.Core.Native;
using DefenseBench.Harness.Diagnostics;
using DefenseBench.Harness.Utility;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Running;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Bench;

/// <summary>The cell runs of one block and attack: how many, their wall time (victims included) and the attack's own time.</summary>
public sealed record BenchLine(string Block, string Attack, int Runs, double WallMs, double MedianAttackMs, double MeanAttackMs)
{
    public double CellsPerSecond => Runs / (WallMs / 1000);
}

/// <summary>Memory after a number of cell runs: resident now and its high-water mark, the managed heap, the GPU (driver's view).</summary>
public sealed record MemoryPoint(int CellRuns, long? ResidentBytes, long? PeakResidentBytes, long ManagedBytes, long? GpuBytes);

/// <param name="Batched">whether a reconstruction cell's seeds were solved together, as `run --batch-seeds` does</param>
/// <param name="Rows">the rows the cell runs gave, as `run` would write them</param>
public sealed record MatrixBenchResult(string Matrix, string Device, bool Batched, int CellRuns, int Failed, double WallMs, IReadOnlyList<BenchLine> Lines,
    IReadOnlyList<MemoryPoint> Memory, long PeakManagedBytes, long? PeakGpuBytes, IReadOnlyList<CellRow> Rows);

/// <summary>
/// Times every cell of a matrix the way `run` runs it (victims built once per scenario and seed, the same executor),
/// without writing results: cells per second and time per attack for each block and attack, and memory — the
/// process's peak resident set (VmHWM), the managed heap's peak, and on CUDA the memory in use as the driver reports
/// it (libtorch's caching allocator keeps what it once used, so that is the peak it reserved). One cell runs once
/// before the clock starts, so library loading and first-call kernel selection are not counted.
/// </summary>
public static class MatrixBench
{
    public static MatrixBenchResult Run(MatrixSpec matrix, Device device, int memoryEvery, bool batch = false)
    {
        var none = new HashSet<(string, int)>();
        // Utility trainings are cached per setting as in `run`, so each is timed once, in the first cell that asks for it.
        using var utility = new UtilityCache(device);
        if (matrix.Cells.Count > 0) Runner.RunGroup([matrix.Cells[0]], matrix.Seeds[0], device, none, (_, _) => { }, utility);

        var lines = new Dictionary<(string Block, string Attack), Tally>();
        var memory = new List<MemoryPoint>();
        long peakManaged = 0;
        long? peakGpu = null;
        int runs = 0, failed = 0;
        var total = Stopwatch.StartNew();
        var sinceLast = Stopwatch.StartNew();
        var rows = new List<CellRow>();
        foreach (var group in Runner.Groups(matrix.Cells))
        {
            sinceLast.Restart();
            // A batched cell's rows come together when its batch is solved: the first carries the batch's wall time.
            Runner.RunGroup(group, matrix.Seeds, device, none, (cell, row) =>
            {
                rows.Add(row);
                if (!lines.TryGetValue((cell.Block, cell.Attack.Canonical), out var tally)) lines[(cell.Block, cell.Attack.Canonical)] = tally = new Tally();
                tally.Runs++;
                tally.WallMs += sinceLast.Elapsed.TotalMilliseconds;
                if (row.AttackMs is { } ms) tally.AttackMs.Add(ms);
                sinceLast.Restart();
                runs++;
                if (row.Status == CellRow.Failed) failed++;
                peakManaged = Math.Max(peakManaged, GC.GetTotalMemory(false));
                if (device.type == DeviceType.CUDA && CudaDriver.UsedBytes() is { } gpu) peakGpu = Math.Max(peakGpu ?? 0, gpu);
                if (memoryEvery > 0 && runs % memoryEvery == 0) memory.Add(Sample(runs, peakGpu));
            }, utility, null, null, null, null, batch);
        }
        double wall = total.Elapsed.TotalMilliseconds;
        if (memoryEvery <= 0 || runs % memoryEvery != 0) memory.Add(Sample(runs, peakGpu));
        var benchLines = lines.Select(kv => new BenchLine(kv.Key.Block, kv.Key.Attack, kv.Value.Runs, kv.Value.WallMs,
            Timing.Median(kv.Value.AttackMs), kv.Value.AttackMs.Count > 0 ? kv.Value.AttackMs.Average() : double.NaN)).ToArray();
        return new MatrixBenchResult(matrix.Name, device.ToString(), batch, runs, failed, wall, benchLines, memory, peakManaged, peakGpu, rows);
    }

    private sealed class Tally
    {
        public int Runs { get; set; }
        public double WallMs { get; set; }
        public List<double> AttackMs { get; } = [];
    }

    private static MemoryPoint Sample(int runs, long? gpu) =>
        new(runs, ProcMemory.ResidentBytes(), ProcMemory.PeakResidentBytes(), GC.GetTotalMemory(false), gpu);

    public static string Table(MatrixBenchResult r)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant($"{r.Matrix} on {r.Device}{(r.Batched ? " (--batch-seeds)" : "")}: {r.CellRuns} cell runs in {r.WallMs / 1000:F2} s = {r.CellRuns / (r.WallMs / 1000):F1} cells/s ({r.Failed} failed)"));
        // A failed cell's time is not comparable with the others': say which one failed and why, as `run` does.
        foreach (var row in r.Rows.Where(row => row.Status == CellRow.Failed))
            text.AppendLine(Invariant($"failed: {Escape.Terminal(row.CellId)} seed {row.Seed} ({Escape.Terminal(string.Join(", ", row.Block, row.Attack, row.Protocol, row.Defense))}): {Escape.Terminal(row.Error)}"));
        var rows = new List<string[]> { new[] { "block", "attack", "runs", "wall_s", "cells/s", "attack_ms_median", "attack_ms_mean" } };
        rows.AddRange(r.Lines.Select(l => new[]
        {
            Escape.Terminal(l.Block), Escape.Terminal(l.Attack), Invariant($"{l.Runs}"), Invariant($"{l.WallMs / 1000:F2}"), Invariant($"{l.CellsPerSecond:F1}"),
            Invariant($"{l.MedianAttackMs:F2}"), Invariant($"{l.MeanAttackMs:F2}"),
        }));
        AppendAligned(text, rows, 2);
        var last = r.Memory[^1];
        text.AppendLine($"peak memory: process RSS high-water (VmHWM) {ProcMemory.MiB(last.PeakResidentBytes)} MiB, managed heap peak {ProcMemory.MiB(r.PeakManagedBytes)} MiB, " +
                        $"GPU in use (driver) {(r.PeakGpuBytes is { } g ? ProcMemory.MiB(g) + " MiB" : "-")}");
        var trace = new List<string[]> { new[] { "cell_runs", "rss_mib", "rss_peak_mib", "managed_mib", "gpu_mib" } };
        trace.AddRange(r.Memory.Select(m => new[]
        {
            Invariant($"{m.CellRuns}"), ProcMemory.MiB(m.ResidentBytes), ProcMemory.MiB(m.PeakResidentBytes), ProcMemory.MiB(m.ManagedBytes), ProcMemory.MiB(m.GpuBytes),
        }));
        AppendAligned(text, trace, 0);
        return text.ToString();
    }

    /// <summary>
    /// The matrix timed twice, each seed of a reconstruction cell solved alone and then all together (`run`
    /// against `run --batch-seeds`), the same cells and seeds each time.
    /// </summary>
    public static BatchComparison CompareBatching(MatrixSpec matrix, Device device, int memoryEvery) =>
        new(Run(matrix, device, memoryEvery, batch: false), Run(matrix, device, memoryEvery, batch: true));

    /// <summary>Both timings, the end-to-end ratio and, row by row, how the batched run's numbers differ from the unbatched one's.</summary>
    public static string Table(BatchComparison c)
    {
        var text = new StringBuilder();
        text.Append(Table(c.Unbatched)).AppendLine().Append(Table(c.Batched)).AppendLine();
        var pairs = c.Pairs();
        var images = pairs.Where(p => p.Unbatched.Psnr != null || p.Batched.Psnr != null).ToArray();
        var rows = new List<string[]> { new[] { "block", "attack", "seed", "psnr_unbatched", "psnr_batched", "psnr_diff", "agreement" } };
        rows.AddRange(images.Select(p => new[]
        {
            Escape.Terminal(p.Unbatched.Block), Escape.Terminal(p.Unbatched.AttackParams.Length > 0 ? $"{p.Unbatched.Attack}({p.Unbatched.AttackParams})" : p.Unbatched.Attack), Invariant($"{p.Unbatched.Seed}"),
            Number(p.Unbatched.Psnr), Number(p.Batched.Psnr), Number(p.Batched.Psnr - p.Unbatched.Psnr), Describe(Agree(p.Unbatched.Psnr, p.Batched.Psnr)),
        }));
        if (rows.Count > 1) AppendAligned(text, rows, 2);
        var differences = pairs.Select(p => Math.Abs((p.Batched.Psnr ?? 0) - (p.Unbatched.Psnr ?? 0))).ToArray();
        var agreements = images.Select(p => Agree(p.Unbatched.Psnr, p.Batched.Psnr)).ToArray();
        text.AppendLine(Invariant($"batched vs unbatched: {c.Unbatched.WallMs / 1000:F2} s unbatched, {c.Batched.WallMs / 1000:F2} s batched = {c.Speedup:F2}x end to end; ") +
                        Invariant($"{pairs.Count} rows, status equal in {pairs.Count(p => p.Unbatched.Status == p.Batched.Status)}, ") +
                        Invariant($"label metrics equal in {pairs.Count(p => SameLabels(p.Unbatched, p.Batched))}, ") +
                        Invariant($"largest PSNR difference {(differences.Length > 0 ? differences.Max() : 0):F2} dB; ") +
                        Invariant($"PSNR within {SameDb:F1} dB in {agreements.Count(a => a == PsnrAgreement.Within)}, ") +
                        Invariant($"both beyond 8-bit resolution in {agreements.Count(a => a == PsnrAgreement.BeyondEightBits)}, ") +
                        Invariant($"apart in {agreements.Count(a => a == PsnrAgreement.Apart)}"));
        return text.ToString();
    }

    /// <summary>How far apart two runs' PSNRs of one row may be and still count as the same result.</summary>
    public const double SameDb = 0.5;

    /// <summary>
    /// Whether a row's PSNR in two runs agrees: within <see cref="SameDb"/>, or both at or beyond <see cref="ImageMetrics.EightBitPsnr"/>
    /// (the same image at the data's resolution), or apart. A row with no PSNR in one run (a failure) is apart.
    /// </summary>
    public static PsnrAgreement Agree(double? a, double? b)
    {
        if (a is not { } x || b is not { } y || double.IsNaN(x) || double.IsNaN(y)) return PsnrAgreement.Apart;
        if (Math.Abs(x - y) <= SameDb || x == y) return PsnrAgreement.Within;
        return x >= ImageMetrics.EightBitPsnr && y >= ImageMetrics.EightBitPsnr ? PsnrAgreement.BeyondEightBits : PsnrAgreement.Apart;
    }

    private static string Describe(PsnrAgreement agreement) => agreement switch
    {
        PsnrAgreement.Within => "within",
        PsnrAgreement.BeyondEightBits => "beyond-8-bit",
        _ => "apart",
    };

    /// <summary>Whether two rows recovered labels equally well: every label metric the same.</summary>
    public static bool SameLabels(CellRow a, CellRow b) => a.LeAcc == b.LeAcc && a.LnAcc == b.LnAcc && a.IRec == b.IRec && a.Asr == b.Asr;

    private static string Number(double? value) => value is { } v ? Invariant($"{v:F2}") : "-";

    /// <summary>Columns padded to a common width: the first <paramref name="left"/> left-aligned (names), the rest right-aligned (numbers).</summary>
    private static void AppendAligned(StringBuilder text, List<string[]> rows, int left)
    {
        int[] widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
            text.AppendLine(string.Join("  ", row.Select((cell, c) => c < left ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>How a row's PSNR in a batched run compares with the unbatched run's (<see cref="MatrixBench.Agree"/>).</summary>
public enum PsnrAgreement { Within, BeyondEightBits, Apart }

/// <summary>A matrix timed with each reconstruction cell's seeds solved alone, then together.</summary>
public sealed record BatchComparison(MatrixBenchResult Unbatched, MatrixBenchResult Batched)
{
    /// <summary>Unbatched wall time over batched wall time.</summary>
    public double Speedup => Unbatched.WallMs / Batched.WallMs;

    /// <summary>The rows of both runs paired by cell and seed, in the unbatched run's order.</summary>
    public IReadOnlyList<(CellRow Unbatched, CellRow Batched)> Pairs()
    {
        var batched = Batched.Rows.ToDictionary(r => r.Key);
        return Unbatched.Rows.Where(r => batched.ContainsKey(r.Key)).Select(r => (r, batched[r.Key])).ToArray();
    }
}
