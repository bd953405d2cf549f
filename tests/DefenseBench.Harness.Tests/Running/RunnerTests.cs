using System.Security.Cryptography;
using System.Text.Json;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Running;

/// <summary>One run of a matrix that sweeps top-k keep over two values next to no defence, shared by the tests.</summary>
public sealed class SweepRun : IDisposable
{
    public const string Yaml = """
        name: tiny-sweep
        seeds: 2
        blocks:
          - name: sweep
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: [2, 5]
            labels: non-iid
            attacks: [llg, {llg-plus: {aux_per_class: 4, repeats: 2}}]
            defenses:
              - none
              - topk: {keep: [1.0, 0.5], scope: layer}
        """;

    private readonly TempFolder _temp = new();

    public SweepRun()
    {
        MatrixPath = _temp.Write("tiny-sweep.yaml", Yaml);
        Result = InProcess.Expect(0, "run", MatrixPath, "--out", Out, "--device", "cpu");
        Matrix = MatrixLoader.Load(MatrixPath);
        Rows = CellsCsv.Read(Path.Combine(Out, CellsCsv.FileName));
    }

    public string MatrixPath { get; }
    public string Out => _temp["out"];
    public CliResult Result { get; }
    public MatrixSpec Matrix { get; }
    public IReadOnlyList<CellRow> Rows { get; }

    public void Dispose() => _temp.Dispose();
}

public sealed class RunnerTests(SweepRun sweep) : IClassFixture<SweepRun>, IDisposable
{
    private readonly TempFolder _temp = new();

    private const string OneCell = """
        name: one-cell
        seeds: [5]
        blocks:
          - name: one
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 2
            attacks: [llg]
        """;

    [Fact]
    public void Run_writes_one_row_per_cell_and_seed()
    {
        Assert.Equal(2 * 2 * 3, sweep.Matrix.Cells.Count);
        Assert.Equal(sweep.Matrix.Cells.Count * 2, sweep.Rows.Count);
        Assert.Equal(
            sweep.Matrix.Cells.SelectMany(c => new[] { (c.Id, 0), (c.Id, 1) }).Order(),
            sweep.Rows.Select(r => r.Key).Order());
        Assert.All(sweep.Rows, r => Assert.Equal(CellRow.Ok, r.Status));
        Assert.All(sweep.Rows, r => Assert.NotNull(r.Asr));
        Assert.All(sweep.Rows, r => Assert.Equal("cpu", r.Device));
        Assert.Contains($"{sweep.Rows.Count} rows", sweep.Result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_are_in_matrix_cell_order_then_seed()
    {
        Assert.Equal(sweep.Matrix.Cells.SelectMany(c => sweep.Matrix.Seeds.Select(s => (c.Id, s))), sweep.Rows.Select(r => r.Key));
    }

    [Fact]
    public void Rows_describe_their_cell_in_the_csv_vocabulary()
    {
        var byId = sweep.Matrix.Cells.ToDictionary(c => c.Id);
        Assert.All(sweep.Rows, r =>
        {
            var cell = byId[r.CellId];
            Assert.Equal(cell.Attack.Id, r.Attack);
            Assert.Equal(cell.Defense.Canonical, r.Defense);
            Assert.Equal(cell.Scenario.BatchSize, r.BatchSize);
            Assert.Equal("synthetic-mnist", r.Dataset);
            Assert.Equal(10, r.NumClasses);
        });
        Assert.Contains(sweep.Rows, r => r.Defense == "topk(keep=0.5,scope=layer,ef=off)");
        Assert.Contains(sweep.Rows, r => r.Defense == "none");
    }

    [Fact]
    public void Run_writes_a_manifest_with_the_provenance_of_the_run()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(sweep.Out, Manifest.FileName)));
        var root = json.RootElement;

        Assert.Equal("tiny-sweep", root.GetProperty("matrix").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(sweep.MatrixPath))), root.GetProperty("matrix_sha256").GetString());
        Assert.Equal("cpu", root.GetProperty("device").GetString());
        var started = root.GetProperty("started").GetDateTimeOffset();
        var finished = root.GetProperty("finished").GetDateTimeOffset();
        Assert.True(started <= finished, $"started {started} after finished {finished}");
        Assert.True(DateTimeOffset.Now - started < TimeSpan.FromHours(1));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("packages").GetProperty("TorchSharp").GetString()));
        Assert.Equal(sweep.Rows.Count, root.GetProperty("rows").GetInt32());
        Assert.Equal(0, root.GetProperty("failed_rows").GetInt32());
        Assert.Equal([0, 1], root.GetProperty("seeds").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public void Run_draws_png_and_svg_plots_for_a_swept_defence_parameter()
    {
        string plots = Path.Combine(sweep.Out, "plots");
        var png = Directory.GetFiles(plots, "*.png");
        var svg = Directory.GetFiles(plots, "*.svg");

        Assert.NotEmpty(png);
        Assert.Equal(png.Select(Path.GetFileNameWithoutExtension).Order(), svg.Select(Path.GetFileNameWithoutExtension).Order());
        Assert.All(png, p => Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(p)[..4]));
        Assert.All(svg, p => Assert.Contains("<svg", File.ReadAllText(p), StringComparison.Ordinal));
        Assert.Contains(png, p => Path.GetFileName(p).Contains("keep", StringComparison.Ordinal));
    }

    [Fact]
    public void Topk_keep_one_leaks_exactly_what_no_defence_leaks()
    {
        static string Scenario(CellRow r) => $"{r.Attack}|{r.AttackParams}|{PlotRenderer.Field(r, "batch_size")}|{r.Labels}|{r.Protocol}|{r.Seed}";
        var none = sweep.Rows.Where(r => r.Defense == "none").ToDictionary(Scenario);
        var keepOne = sweep.Rows.Where(r => r.Defense.StartsWith("topk(keep=1,", StringComparison.Ordinal)).ToArray();

        Assert.Equal(none.Count, keepOne.Length);
        Assert.All(keepOne, r =>
        {
            var n = none[Scenario(r)];
            Assert.NotEqual(n.CellId, r.CellId);
            foreach (string metric in new[] { "asr", "asr_random", "leacc", "leacc_random", "lnacc", "lnacc_random", "irec" })
                Assert.True(n.Metric(metric) == r.Metric(metric), $"{metric}: none {n.Metric(metric)} vs keep=1 {r.Metric(metric)} ({Scenario(r)})");
            Assert.Equal(n.Extras, r.Extras);
        });
    }

    [Fact]
    public void Progress_goes_to_the_error_writer_one_line_per_cell_run()
    {
        var lines = sweep.Result.Stderr.Split('\n').Where(l => l.StartsWith('[')).ToArray();

        Assert.Equal(sweep.Rows.Count, lines.Length);
        Assert.StartsWith($"[{sweep.Rows.Count}/{sweep.Rows.Count} 100%]", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void The_seeds_option_overrides_the_matrix_seeds()
    {
        string matrix = _temp.Write("one.yaml", OneCell);

        InProcess.Expect(0, "run", matrix, "--out", _temp["out"], "--device", "cpu", "--seeds", "2");

        var rows = CellsCsv.Read(Path.Combine(_temp["out"], CellsCsv.FileName));
        Assert.Equal([0, 1], rows.Select(r => r.Seed).Order());
    }

    [Fact]
    public void Without_the_seeds_option_the_matrix_seeds_run()
    {
        string matrix = _temp.Write("one.yaml", OneCell);

        InProcess.Expect(0, "run", matrix, "--out", _temp["out"], "--device", "cpu");

        Assert.Equal(5, Assert.Single(CellsCsv.Read(Path.Combine(_temp["out"], CellsCsv.FileName))).Seed);
    }

    [Fact]
    public void A_cell_that_fails_is_recorded_as_failed_and_the_run_goes_on_with_exit_code_1()
    {
        string matrix = _temp.Write("fails.yaml", FailingMatrix.Yaml);

        var run = InProcess.Expect(1, "run", matrix, "--out", _temp["out"], "--device", "cpu");

        var rows = CellsCsv.Read(Path.Combine(_temp["out"], CellsCsv.FileName));
        Assert.Equal(2, rows.Count);
        var failed = Assert.Single(rows, r => r.Status == CellRow.Failed);
        Assert.StartsWith("fedavg", failed.Protocol, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(failed.Error));
        Assert.Null(failed.Asr);
        var ok = Assert.Single(rows, r => r.Status == CellRow.Ok);
        Assert.Equal("fedsgd", ok.Protocol);
        Assert.Contains("1 failed", run.Stdout, StringComparison.Ordinal);
        Assert.Contains(failed.CellId, run.Stdout, StringComparison.Ordinal);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(_temp["out"], Manifest.FileName)));
        Assert.Equal(1, manifest.RootElement.GetProperty("failed_rows").GetInt32());
    }

    [Fact]
    public void Running_twice_into_one_folder_keeps_the_first_run_as_cells_prev()
    {
        string matrix = _temp.Write("one.yaml", OneCell);
        string cells = Path.Combine(_temp["out"], CellsCsv.FileName);
        InProcess.Expect(0, "run", matrix, "--out", _temp["out"], "--device", "cpu");
        string first = File.ReadAllText(cells);

        var second = InProcess.Expect(0, "run", matrix, "--out", _temp["out"], "--device", "cpu", "--seeds", "2");

        Assert.Equal(first, File.ReadAllText(Path.Combine(_temp["out"], "cells.prev.csv")));
        Assert.True(File.Exists(Path.Combine(_temp["out"], "manifest.prev.json")));
        Assert.Equal(2, CellsCsv.Read(cells).Count);
        Assert.Contains("cells.prev.csv", second.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Device_cuda_without_a_cuda_device_exits_2_before_any_cell_runs()
    {
        // The test machines are CPU-only (TorchSharp-cpu); with a GPU this test has nothing to check.
        if (TorchSharp.torch.cuda.is_available()) return;
        string matrix = _temp.Write("one.yaml", OneCell);

        var run = InProcess.Expect(2, "run", matrix, "--out", _temp["out"], "--device", "cuda");

        Assert.False(File.Exists(Path.Combine(_temp["out"], CellsCsv.FileName)));
        Assert.Contains("--device cpu", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_out_path_that_is_a_file_exits_2_with_a_message()
    {
        string matrix = _temp.Write("one.yaml", OneCell);
        string file = _temp.Write("not-a-folder", "");

        var run = InProcess.Expect(2, "run", matrix, "--out", file, "--device", "cpu");

        Assert.Contains("--out", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_device_exits_2()
    {
        string matrix = _temp.Write("one.yaml", OneCell);

        var run = InProcess.Expect(2, "run", matrix, "--out", _temp["out"], "--device", "tpu");

        Assert.Contains("auto, cpu, cuda", run.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_temp["out"], CellsCsv.FileName)));
    }

    public void Dispose() => _temp.Dispose();
}
