using System.Diagnostics;
using System.Globalization;
using System.Text;
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

public sealed record MatrixBenchResult(string Matrix, string Device, int CellRuns, int Failed, double WallMs, IReadOnlyList<BenchLine> Lines,
    IReadOnlyList<MemoryPoint> Memory, long PeakManagedBytes, long? PeakGpuBytes);

/// <summary>
/// Times every cell of a matrix the way `run` runs it (victims built once per scenario and seed, the same executor),
/// without writing results: cells per second and time per attack for each block and attack, and memory — the
/// process's peak resident set (VmHWM), the managed heap's peak, and on CUDA the memory in use as the driver reports
/// it (libtorch's caching allocator keeps what it once used, so that is the peak it reserved). One cell runs once
/// before the clock starts, so library loading and first-call kernel selection are not counted.
/// </summary>
public static class MatrixBench
{
    public static MatrixBenchResult Run(MatrixSpec matrix, Device device, int memoryEvery)
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
        foreach (var (group, seed) in Runner.Plan(matrix.Cells, matrix.Seeds))
        {
            sinceLast.Restart();
            Runner.RunGroup(group, seed, device, none, (cell, row) =>
            {
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
            }, utility);
        }
        double wall = total.Elapsed.TotalMilliseconds;
        if (memoryEvery <= 0 || runs % memoryEvery != 0) memory.Add(Sample(runs, peakGpu));
        var benchLines = lines.Select(kv => new BenchLine(kv.Key.Block, kv.Key.Attack, kv.Value.Runs, kv.Value.WallMs,
            Timing.Median(kv.Value.AttackMs), kv.Value.AttackMs.Count > 0 ? kv.Value.AttackMs.Average() : double.NaN)).ToArray();
        return new MatrixBenchResult(matrix.Name, device.ToString(), runs, failed, wall, benchLines, memory, peakManaged, peakGpu);
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
        text.AppendLine(Invariant($"{r.Matrix} on {r.Device}: {r.CellRuns} cell runs in {r.WallMs / 1000:F2} s = {r.CellRuns / (r.WallMs / 1000):F1} cells/s ({r.Failed} failed)"));
        var rows = new List<string[]> { new[] { "block", "attack", "runs", "wall_s", "cells/s", "attack_ms_median", "attack_ms_mean" } };
        rows.AddRange(r.Lines.Select(l => new[]
        {
            l.Block, l.Attack, Invariant($"{l.Runs}"), Invariant($"{l.WallMs / 1000:F2}"), Invariant($"{l.CellsPerSecond:F1}"),
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

    /// <summary>Columns padded to a common width: the first <paramref name="left"/> left-aligned (names), the rest right-aligned (numbers).</summary>
    private static void AppendAligned(StringBuilder text, List<string[]> rows, int left)
    {
        int[] widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
            text.AppendLine(string.Join("  ", row.Select((cell, c) => c < left ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
