using System.Diagnostics;
using System.Text.Json;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Running;

public sealed class ResumeTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private const string Small = """
        name: tiny-resume
        seeds: 2
        blocks:
          - name: r
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: [1, 3]
            labels: non-iid
            attacks: [llg, {llg-star: {repeats: 2}}, {llg-plus: {aux_per_class: 4, repeats: 2}}]
            defenses: [none, {topk: {keep: 0.5}}]
        """;

    /// <summary>72 cells x 2 seeds of the LLG family at B = 1..8: several seconds, long enough to be killed mid-run.</summary>
    private const string Large = """
        name: kill-me
        seeds: 2
        blocks:
          - name: k
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: [1, 2, 3, 4, 5, 6, 7, 8]
            labels: non-iid
            attacks: [llg, {llg-star: {repeats: 2}}, {llg-plus: {aux_per_class: 8, repeats: 2}}]
            defenses:
              - none
              - topk: {keep: [0.5, 0.1]}
        """;

    private static string[] Lines(string path) => File.ReadAllText(path).Split('\n');

    /// <summary>Every (cell, seed) of the matrix appears exactly once.</summary>
    private static void AssertEachCellRunExactlyOnce(MatrixSpec matrix, IReadOnlyList<CellRow> rows)
    {
        var duplicates = rows.GroupBy(r => r.Key).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.True(duplicates.Length == 0, $"rows that appear twice: {string.Join(", ", duplicates)}");
        Assert.Equal(matrix.Cells.Count * matrix.Seeds.Count, rows.Count);
        Assert.Equal(
            matrix.Cells.SelectMany(c => matrix.Seeds.Select(s => (c.Id, s))).Order(),
            rows.Select(r => r.Key).Order());
    }

    [Fact]
    public void Resume_after_a_cut_off_row_runs_every_cell_and_seed_once_with_the_numbers_of_an_uninterrupted_run()
    {
        string matrix = _temp.Write("tiny-resume.yaml", Small);
        string whole = _temp["whole"], resumed = _temp["resumed"];
        InProcess.Expect(0, "run", matrix, "--out", whole, "--device", "cpu");
        string[] lines = Lines(Path.Combine(whole, CellsCsv.FileName));
        const int kept = 5;
        Directory.CreateDirectory(resumed);
        // The header, five complete rows and the start of the sixth, as a kill mid-write leaves them.
        File.WriteAllText(Path.Combine(resumed, CellsCsv.FileName), string.Join("\n", lines[..(kept + 1)]) + "\n" + lines[kept + 1][..20]);
        File.Copy(Path.Combine(whole, Manifest.FileName), Path.Combine(resumed, Manifest.FileName));

        var run = InProcess.Expect(0, "run", matrix, "--out", resumed, "--device", "cpu", "--resume");

        var spec = MatrixLoader.Load(matrix);
        var rows = CellsCsv.Read(Path.Combine(resumed, CellsCsv.FileName), out bool truncated);
        Assert.False(truncated);
        AssertEachCellRunExactlyOnce(spec, rows);
        // The rows that were there are kept byte for byte.
        Assert.Equal(lines[..(kept + 1)], Lines(Path.Combine(resumed, CellsCsv.FileName))[..(kept + 1)]);
        // Every row, the re-run ones included, has the numbers of the uninterrupted run (only the timing differs).
        var expected = CellsCsv.Read(Path.Combine(whole, CellsCsv.FileName)).ToDictionary(r => r.Key, r => r with { AttackMs = null });
        Assert.All(rows, r => Assert.Equal(expected[r.Key], r with { AttackMs = null }));
        Assert.Contains("incomplete last row", run.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{kept} rows already done", run.Stderr, StringComparison.Ordinal);

        using var before = JsonDocument.Parse(File.ReadAllText(Path.Combine(whole, Manifest.FileName)));
        using var after = JsonDocument.Parse(File.ReadAllText(Path.Combine(resumed, Manifest.FileName)));
        Assert.Equal(before.RootElement.GetProperty("started").GetString(), after.RootElement.GetProperty("started").GetString());
        Assert.Single(after.RootElement.GetProperty("resumed").EnumerateArray());
        Assert.Equal(rows.Count, after.RootElement.GetProperty("rows").GetInt32());
    }

    [Theory]
    [InlineData("")]
    [InlineData("cell_id,block,att")]
    public void Resume_of_a_run_killed_before_its_header_was_written_runs_everything(string cellsCsv)
    {
        string matrix = _temp.Write("one.yaml", Small.Replace("batch_size: [1, 3]", "batch_size: 1", StringComparison.Ordinal));
        string cells = _temp.Write("out/cells.csv", cellsCsv);

        InProcess.Expect(0, "run", matrix, "--out", _temp["out"], "--device", "cpu", "--resume");

        AssertEachCellRunExactlyOnce(MatrixLoader.Load(matrix), CellsCsv.Read(cells));
        Assert.Single(File.ReadAllLines(cells), l => l.StartsWith("cell_id,", StringComparison.Ordinal));
    }

    [Fact]
    public void Resume_of_a_finished_run_runs_nothing_and_changes_no_row()
    {
        string matrix = _temp.Write("tiny-resume.yaml", Small);
        string cells = Path.Combine(_temp["out"], CellsCsv.FileName);
        InProcess.Expect(0, "run", matrix, "--out", _temp["out"], "--device", "cpu");
        string first = File.ReadAllText(cells);

        var run = InProcess.Expect(0, "run", matrix, "--out", _temp["out"], "--device", "cpu", "--resume");

        Assert.Equal(first, File.ReadAllText(cells));
        Assert.DoesNotContain("\n[", "\n" + run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Resume_with_a_different_matrix_exits_2_and_leaves_the_results_alone()
    {
        string matrix = _temp.Write("tiny-resume.yaml", Small);
        string cells = Path.Combine(_temp["out"], CellsCsv.FileName);
        InProcess.Expect(0, "run", matrix, "--out", _temp["out"], "--device", "cpu", "--seeds", "1");
        string first = File.ReadAllText(cells);
        string other = _temp.Write("other.yaml", Small.Replace("batch_size: [1, 3]", "batch_size: [1, 4]", StringComparison.Ordinal));

        var run = InProcess.Expect(2, "run", other, "--out", _temp["out"], "--device", "cpu", "--resume");

        Assert.Equal(first, File.ReadAllText(cells));
        Assert.Contains("--out", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_killed_mid_way_and_resumed_has_every_cell_and_seed_exactly_once()
    {
        string matrix = _temp.Write("kill-me.yaml", Large);
        string cells = Path.Combine(_temp["out"], CellsCsv.FileName);
        var spec = MatrixLoader.Load(matrix);
        int total = spec.Cells.Count * spec.Seeds.Count;
        Assert.Equal(144, total);

        int rowsAtKill;
        using (var process = Defensebench.Start(_temp.Path, "run", matrix, "--out", _temp["out"], "--device", "cpu"))
        {
            var clock = Stopwatch.StartNew();
            while (GrowingCsv.DataRows(cells) < 3)
            {
                Assert.False(process.HasExited,
                    $"the run ended (exit {(process.HasExited ? process.ExitCode : 0)}) before 3 rows were written; output:\n{process.Output}");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"no 3 rows after {clock.Elapsed}; output:\n{process.Output}");
                Thread.Sleep(10);
            }
            process.KillTree();
            rowsAtKill = GrowingCsv.DataRows(cells);
            Assert.True(rowsAtKill < total,
                $"the run finished all {total} rows before it was killed, so nothing was resumed: make the matrix in this test bigger");
            Assert.False(Directory.Exists(Path.Combine(_temp["out"], "plots")), "the killed run should not have reached its plots");
        }

        var resume = InProcess.Expect(0, "run", matrix, "--out", _temp["out"], "--device", "cpu", "--resume");

        var rows = CellsCsv.Read(cells, out bool truncated);
        Assert.False(truncated);
        AssertEachCellRunExactlyOnce(spec, rows);
        Assert.All(rows, r => Assert.Equal(CellRow.Ok, r.Status));
        Assert.Contains("rows already done", resume.Stderr, StringComparison.Ordinal);
        Assert.Contains("took over the lock", resume.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_writer_into_a_folder_being_run_exits_2_naming_the_holder()
    {
        string matrix = _temp.Write("kill-me.yaml", Large);
        string owner = Path.Combine(_temp["out"], ResultsLock.OwnerFile);
        using var process = Defensebench.Start(_temp.Path, "run", matrix, "--out", _temp["out"], "--device", "cpu");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(owner) || new FileInfo(owner).Length == 0)
        {
            Assert.False(process.HasExited, $"the run ended before it took the lock; output:\n{process.Output}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"no lock after {clock.Elapsed}; output:\n{process.Output}");
            Thread.Sleep(10);
        }
        int pid = JsonDocument.Parse(File.ReadAllText(owner)).RootElement.GetProperty("Pid").GetInt32();

        var second = InProcess.Run("run", matrix, "--out", _temp["out"], "--device", "cpu", "--resume");
        var board = InProcess.Run("plot", _temp["out"]);
        process.KillTree();

        Assert.True(second.ExitCode == 2, second.Output);
        Assert.Contains($"is locked by process {pid} on ", second.Stderr, StringComparison.Ordinal);
        Assert.Contains("started ", second.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(0, board.ExitCode);
        using var taken = ResultsLock.Acquire(_temp["out"], "test");
        Assert.Equal(pid, taken.TakenOver?.Pid);
    }

    [Fact]
    public void A_run_whose_file_lost_a_row_does_not_exit_0()
    {
        string matrix = _temp.Write("tiny.yaml", Small);
        var spec = MatrixLoader.Load(matrix);
        var rows = Enumerable.Range(0, 2).SelectMany(seed => spec.Cells.Select(c => new CellRow { CellId = c.Id, Seed = seed, Status = CellRow.Ok })).ToList();

        Assert.Null(DefenseBench.Harness.Running.Runner.Incomplete(rows, spec.Cells, spec.Seeds));
        Assert.Contains($"1 of {rows.Count} cell runs are missing", DefenseBench.Harness.Running.Runner.Incomplete(rows.Skip(1).ToList(), spec.Cells, spec.Seeds));
        Assert.Contains("not a cell run of this matrix",
            DefenseBench.Harness.Running.Runner.Incomplete([.. rows, rows[0] with { Seed = 7 }], spec.Cells, spec.Seeds));
    }

    public void Dispose() => _temp.Dispose();
}
