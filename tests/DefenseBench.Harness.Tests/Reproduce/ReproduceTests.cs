using System.Text.Json;
using System.Text.Json.Nodes;
using DefenseBench.Harness.Reproduce;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Cli;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Reproduce;

/// <summary>One honest tiny run (three llg cells on dlg-lenet, one seed, tolerance 0.01), shared; each test checks a copy of its folder.</summary>
public sealed class TinyRun : IDisposable
{
    private readonly TempFolder temp = new();

    public string Matrix { get; }

    public string Folder { get; }

    public TinyRun()
    {
        Matrix = temp.Write("tiny.yaml", CliTests.Tiny + "\ntolerance: {default: 0.01}\n");
        Folder = temp["run"];
        InProcess.Expect(0, "run", Matrix, "--out", Folder, "--device", "cpu");
    }

    /// <summary>A copy of the run's cells.csv and manifest.json in a fresh folder.</summary>
    public string Copy(TempFolder into) => RunCopies.Copy(Folder, into, "copy");

    public void Dispose() => temp.Dispose();
}

public sealed class ReproduceTests(TinyRun run) : IClassFixture<TinyRun>
{
    [Fact]
    public void An_honest_run_reproduces_and_reproduce_json_records_every_sampled_cell()
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);

        var result = InProcess.Expect(0, "reproduce", folder, "--sample", "1", "--device", "cpu");

        var report = ReproduceReport.TryLoad(folder)!;
        Assert.Equal(3, report.Sampled);
        Assert.Equal(3, report.Reproduced);
        Assert.All(report.Cells, c => Assert.Empty(c.Moved));
        Assert.Contains("reproduced 3 of 3 sampled cells", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(new[] { CellsCsv.FileName, Manifest.FileName, ReproduceReport.FileName }.Order(),
            Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void A_changed_number_in_cells_csv_is_caught_naming_the_cell_and_metric()
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);
        string cells = Path.Combine(folder, CellsCsv.FileName);
        var rows = CellsCsv.Read(cells);
        var target = rows[1];
        rows[1] = target with { LeAcc = target.LeAcc > 0.5 ? target.LeAcc - 0.5 : target.LeAcc + 0.5 };
        CellsCsv.Write(cells, rows);

        var result = InProcess.Expect(1, "reproduce", folder, "--sample", "1", "--device", "cpu");

        Assert.Contains($"differs: {target.CellId}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("leacc was", result.Stdout, StringComparison.Ordinal);
        var verdict = Assert.Single(ReproduceReport.TryLoad(folder)!.Cells, c => !c.Reproduced);
        Assert.Equal(target.CellId, verdict.CellId);
        var moved = Assert.Single(verdict.Moved);
        Assert.Equal(("leacc", rows[1].LeAcc, target.LeAcc, 0.01), (moved.Metric, moved.Was, moved.Now, moved.Tolerance));
    }

    [Fact]
    public void The_same_seed_samples_the_same_cells()
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);

        InProcess.Expect(0, "reproduce", folder, "--sample", "0.5", "--seed", "7", "--device", "cpu");
        var first = ReproduceReport.TryLoad(folder)!.Cells.Select(c => c.CellId).ToArray();
        InProcess.Expect(0, "reproduce", folder, "--sample", "0.5", "--seed", "7", "--device", "cpu");

        Assert.Equal(2, first.Length);
        Assert.Equal(first, ReproduceReport.TryLoad(folder)!.Cells.Select(c => c.CellId));
    }

    [Fact]
    public void A_changed_matrix_file_is_refused_naming_the_hash()
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);
        string matrix = temp.Write("tiny.yaml", File.ReadAllText(run.Matrix) + "# edited\n");
        RunCopies.EditManifest(folder, m => m["matrix_path"] = matrix);

        var result = InProcess.Expect(2, "reproduce", folder, "--device", "cpu");

        Assert.Contains("SHA-256", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("the file changed since the run", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(folder, ReproduceReport.FileName)));
    }

    [Fact]
    public void A_different_harness_version_is_refused_naming_both_versions()
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);
        RunCopies.EditManifest(folder, m => m["harness_version"] = "0.0.1-other");

        var result = InProcess.Expect(2, "reproduce", folder, "--device", "cpu");

        Assert.Contains("harness version 0.0.1-other", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"this is version {Manifest.BuildInfo().Version}", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_matrix_and_another_harness_version_are_both_named()
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);
        string matrix = temp.Write("tiny.yaml", "not: [a matrix of this version\n");
        RunCopies.EditManifest(folder, m =>
        {
            m["matrix_path"] = matrix;
            m["harness_version"] = "9.9.9";
        });

        var result = InProcess.Expect(2, "reproduce", folder, "--device", "cpu");

        Assert.Contains("harness version 9.9.9", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("the file changed since the run", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_matrix_file_is_refused()
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);
        RunCopies.EditManifest(folder, m => m["matrix_path"] = temp["gone.yaml"]);

        var result = InProcess.Expect(2, "reproduce", folder, "--device", "cpu");

        Assert.Contains("gone.yaml, which does not exist", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Manifest.FileName, "{ not json")]
    [InlineData(Manifest.FileName, "null")]
    [InlineData(Manifest.FileName, "{\"matrix_path\": null, \"seeds\": null}")]
    [InlineData(CellsCsv.FileName, "cell_id,attack\n\"unbalanced\n")]
    [InlineData(CellsCsv.FileName, "")]
    public void A_malformed_results_folder_is_an_input_error_and_nothing_is_written(string file, string text)
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);
        File.WriteAllText(Path.Combine(folder, file), text);

        var result = InProcess.Expect(2, "reproduce", folder, "--device", "cpu");

        Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(folder, ReproduceReport.FileName)));
    }

    [Fact]
    public void Manifest_seeds_that_are_not_the_rows_seeds_are_refused()
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);
        RunCopies.EditManifest(folder, m => m["seeds"] = new JsonArray(0, 0, 5));

        var result = InProcess.Expect(2, "reproduce", folder, "--device", "cpu");

        Assert.Contains("lists the seeds", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1.5")]
    public void A_sample_outside_zero_to_one_is_refused(string sample)
    {
        var result = InProcess.Expect(2, "reproduce", run.Folder, "--sample", sample);

        Assert.Contains("is not a fraction in (0, 1]", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Leaderboard_shows_how_many_sampled_cells_reproduced()
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);
        InProcess.Expect(0, "reproduce", folder, "--sample", "1", "--device", "cpu");

        InProcess.Expect(0, "leaderboard", folder, "--out", temp["board"]);

        foreach (string page in new[] { "leaderboard.md", "leaderboard.html", "leaderboard.json" })
            Assert.Contains("reproduced 3 of 3 sampled cells", File.ReadAllText(Path.Combine(temp["board"], page)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("{\"cells\": [null]}")]
    [InlineData("[]")]
    public void Leaderboard_says_when_reproduce_json_cannot_be_read(string text)
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);
        File.WriteAllText(Path.Combine(folder, ReproduceReport.FileName), text);

        InProcess.Expect(0, "leaderboard", folder, "--out", temp["board"]);

        Assert.Contains("reproduce.json could not be read", File.ReadAllText(Path.Combine(temp["board"], "leaderboard.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_reproduce_json_link_is_replaced_not_followed()
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);
        string outside = temp.Write("outside.txt", "keep");
        File.CreateSymbolicLink(Path.Combine(folder, ReproduceReport.FileName), outside);

        InProcess.Expect(0, "reproduce", folder, "--device", "cpu");

        Assert.Equal("keep", File.ReadAllText(outside));
        Assert.NotNull(ReproduceReport.TryLoad(folder));
    }

    [Fact]
    public void A_row_missing_from_cells_csv_fails_its_cell()
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);
        string cells = Path.Combine(folder, CellsCsv.FileName);
        var rows = CellsCsv.Read(cells);
        // Seed 1 given for one cell only: the others lack its row.
        string dropped = rows[0].CellId;
        CellsCsv.Write(cells, [.. rows, rows[1] with { Seed = 1 }]);
        RunCopies.EditManifest(folder, m => m["seeds"] = new JsonArray(0, 1));

        var result = InProcess.Expect(1, "reproduce", folder, "--sample", "1", "--device", "cpu");

        Assert.Contains($"differs: {dropped}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("row missing from cells.csv", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_whole_run_that_lacks_a_cell_is_refused()
    {
        using var temp = new TempFolder();
        string folder = run.Copy(temp);
        string cells = Path.Combine(folder, CellsCsv.FileName);
        var rows = CellsCsv.Read(cells);
        CellsCsv.Write(cells, rows.Skip(1));

        var result = InProcess.Expect(2, "reproduce", folder, "--device", "cpu");

        Assert.Contains($"lacks 1 of the matrix's 3 cells (e.g. cell {rows[0].CellId})", result.Stderr, StringComparison.Ordinal);
    }

    public static TheoryData<string> Defects() => [.. Fuzz.ResultsCorpus.Defects().Select(f => f.Name)];

    [Theory]
    [MemberData(nameof(Defects))]
    public void Every_damaged_results_folder_of_the_fuzz_corpus_is_an_input_error_not_a_crash(string name)
    {
        using var temp = new TempFolder();
        string folder = temp["run"];
        Fuzz.ResultsCorpus.CopyGood(folder);
        Fuzz.ResultsCorpus.Defects().Single(d => d.Name == name).Damage(folder);
        var before = Directory.GetFileSystemEntries(folder, "*", SearchOption.AllDirectories).Order().ToArray();

        var result = InProcess.Run("reproduce", folder, "--device", "cpu");

        Assert.True(result.ExitCode == 2, result.Output);
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", result.Output, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFileSystemEntries(folder, "*", SearchOption.AllDirectories).Order());
    }

}
