using System.Xml.Linq;
using DefenseBench.Harness.Baselines;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Baselines;

/// <summary>One finished run of a four-cell, two-seed matrix, shared by the tests (each works on its own copy).</summary>
public sealed class VerifiedRun : IDisposable
{
    public const string Yaml = """
        name: tiny-verify
        seeds: 2
        tolerance: {asr: 0.05, leacc: 0.05, lnacc: 0.05, irec: 0.05, default: 0.000001}
        blocks:
          - name: v
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 4
            labels: non-iid
            attacks: [llg, {llg-star: {repeats: 2}}]
            defenses:
              - none
              - topk: {keep: 0.5}
        """;

    private readonly TempFolder _temp = new();

    public VerifiedRun()
    {
        Matrix = _temp.Write("tiny-verify.yaml", Yaml);
        InProcess.Expect(0, "run", Matrix, "--out", _temp["run"], "--device", "cpu");
    }

    public string Matrix { get; }

    /// <summary>A copy of the run's folder that a test may change.</summary>
    public string CopyRun(TempFolder into)
    {
        string target = into["run"];
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(_temp["run"]))
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }

    public void Dispose() => _temp.Dispose();
}

public sealed class VerifierTests(VerifiedRun run) : IClassFixture<VerifiedRun>, IDisposable
{
    private readonly TempFolder _temp = new();

    private string Baseline => _temp["baselines/tiny-verify.csv"];

    private CliResult Verify(string results, params string[] more) =>
        InProcess.Run(["verify", run.Matrix, "--results", results, "--baseline", Baseline, .. more]);

    private string Accepted()
    {
        string results = run.CopyRun(_temp);
        var accept = Verify(results, "--accept");
        Assert.True(accept.ExitCode == 0, accept.Output);
        return results;
    }

    /// <summary>Moves one cell's baseline asr by <paramref name="by"/>, away from the [0, 1] edge it is nearest to.</summary>
    private BaselineCell MoveAsr(double by)
    {
        var cells = BaselineFile.Read(Baseline);
        var target = cells.First(c => c.Metrics.ContainsKey("asr"));
        double asr = target.Metrics["asr"];
        var metrics = new Dictionary<string, double>(target.Metrics) { ["asr"] = asr > 0.5 ? asr - by : asr + by };
        BaselineFile.Write(Baseline, cells.Select(c => c == target ? c with { Metrics = metrics } : c));
        return target;
    }

    [Fact]
    public void Accept_writes_the_baseline_with_one_row_per_cell()
    {
        string results = run.CopyRun(_temp);

        var accept = InProcess.Expect(0, "verify", run.Matrix, "--results", results, "--baseline", Baseline, "--accept");

        Assert.True(File.Exists(Baseline), accept.Output);
        var cells = BaselineFile.Read(Baseline);
        Assert.Equal(4, cells.Count);
        Assert.All(cells, c => Assert.Equal(2, c.Seeds));
        Assert.All(cells, c => Assert.Equal(CellRow.Ok, c.Status));
        Assert.All(cells, c => Assert.Contains("asr", c.Metrics.Keys));
        Assert.Equal(CellsCsv.Read(Path.Combine(results, CellsCsv.FileName)).Select(r => r.CellId).Distinct().Order(),
            cells.Select(c => c.CellId).Order());
    }

    [Fact]
    public void Verify_passes_against_the_baseline_it_just_accepted()
    {
        string results = Accepted();

        var verify = Verify(results);

        Assert.True(verify.ExitCode == 0, verify.Output);
        Assert.Contains("within tolerance", verify.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void An_asr_moved_beyond_the_tolerance_fails_and_names_the_cell_and_the_metric()
    {
        string results = Accepted();
        var moved = MoveAsr(0.2);

        var verify = Verify(results);

        Assert.True(verify.ExitCode == 1, verify.Output);
        var line = Assert.Single(verify.Stdout.Split('\n'), l => l.StartsWith(moved.CellId, StringComparison.Ordinal));
        Assert.Contains(" asr ", line, StringComparison.Ordinal);
        Assert.Contains("0.05", line, StringComparison.Ordinal);
        Assert.Contains("--accept", verify.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_asr_moved_within_the_tolerance_passes()
    {
        string results = Accepted();
        MoveAsr(0.04);

        var verify = Verify(results);

        Assert.True(verify.ExitCode == 0, verify.Output);
    }

    [Fact]
    public void A_metric_without_its_own_tolerance_uses_the_default()
    {
        string results = Accepted();
        var cells = BaselineFile.Read(Baseline);
        var target = cells.First(c => c.Metrics.ContainsKey("asr_random"));
        var metrics = new Dictionary<string, double>(target.Metrics) { ["asr_random"] = target.Metrics["asr_random"] + 1e-5 };
        BaselineFile.Write(Baseline, cells.Select(c => c == target ? c with { Metrics = metrics } : c));

        var verify = Verify(results);

        Assert.True(verify.ExitCode == 1, verify.Output);
        Assert.Contains("asr_random", verify.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_baseline_exits_2_and_says_how_to_create_it()
    {
        string results = run.CopyRun(_temp);

        var verify = Verify(results);

        Assert.True(verify.ExitCode == 2, verify.Output);
        Assert.Contains(Baseline, verify.Stderr, StringComparison.Ordinal);
        Assert.Contains("--accept", verify.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Results_missing_a_cell_and_seed_exit_2_and_suggest_resume()
    {
        string results = Accepted();
        string cells = Path.Combine(results, CellsCsv.FileName);
        var rows = CellsCsv.Read(cells);
        CellsCsv.Write(cells, rows.Take(rows.Count - 1));

        var verify = Verify(results);

        Assert.True(verify.ExitCode == 2, verify.Output);
        Assert.Contains("--resume", verify.Stderr, StringComparison.Ordinal);
        Assert.Contains(rows[^1].CellId, verify.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Results_missing_a_cell_and_seed_cannot_be_accepted()
    {
        string results = run.CopyRun(_temp);
        string cells = Path.Combine(results, CellsCsv.FileName);
        var rows = CellsCsv.Read(cells);
        CellsCsv.Write(cells, rows.Skip(1));

        var accept = Verify(results, "--accept");

        Assert.True(accept.ExitCode == 2, accept.Output);
        Assert.False(File.Exists(Baseline));
    }

    [Fact]
    public void A_baseline_path_that_cannot_be_written_exits_2_with_a_message()
    {
        string results = run.CopyRun(_temp);
        string blocker = _temp.Write("blocker", "");

        var accept = InProcess.Run("verify", run.Matrix, "--results", results, "--baseline", Path.Combine(blocker, "b.csv"), "--accept");

        Assert.True(accept.ExitCode == 2, accept.Output);
        Assert.Contains("--baseline", accept.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_results_folder_exits_2()
    {
        var verify = Verify(_temp["no-run-here"]);

        Assert.True(verify.ExitCode == 2, verify.Output);
        Assert.Contains("cells.csv", verify.Stderr, StringComparison.Ordinal);
    }

    private string Junit => _temp["verify.xml"];

    private string Markdown => _temp["verify.md"];

    private static Dictionary<string, XElement> TestCases(string junit) =>
        XDocument.Load(junit).Descendants("testcase").ToDictionary(c => c.Attribute("name")!.Value);

    [Fact]
    public void Verify_with_reports_writes_them_when_all_cells_are_within_tolerance()
    {
        string results = Accepted();

        var verify = Verify(results, "--junit", Junit, "--markdown", Markdown);

        Assert.True(verify.ExitCode == 0, verify.Output);
        var cases = TestCases(Junit);
        Assert.Equal(BaselineFile.Read(Baseline).Select(c => c.CellId).Order(), cases.Keys.Order());
        Assert.DoesNotContain(cases.Values, c => c.Element("failure") != null);
        Assert.StartsWith("### DefenseBench verify tiny-verify: passed", File.ReadAllText(Markdown), StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_with_reports_on_a_perturbed_baseline_exits_1_and_both_reports_name_the_cell_and_the_metric()
    {
        string results = Accepted();
        var moved = MoveAsr(0.2);

        var verify = Verify(results, "--junit", Junit, "--markdown", Markdown);

        Assert.True(verify.ExitCode == 1, verify.Output);
        var cases = TestCases(Junit);
        Assert.Equal(4, cases.Count);
        var failure = Assert.Single(cases.Values.Select(c => c.Element("failure")).OfType<XElement>());
        Assert.Equal(moved.CellId, failure.Parent!.Attribute("name")!.Value);
        Assert.StartsWith("asr: baseline ", failure.Attribute("message")!.Value, StringComparison.Ordinal);
        Assert.Contains("tolerance 0.05", failure.Attribute("message")!.Value, StringComparison.Ordinal);
        string markdown = File.ReadAllText(Markdown);
        Assert.Contains("tiny-verify: failed", markdown, StringComparison.Ordinal);
        Assert.Single(markdown.Split('\n'), l => l.StartsWith($"| {moved.CellId} |", StringComparison.Ordinal) && l.Contains("| asr |", StringComparison.Ordinal));
    }

    [Fact]
    public void Cells_only_in_the_baseline_or_only_in_the_run_are_failing_test_cases()
    {
        string results = Accepted();
        var cells = BaselineFile.Read(Baseline);
        var foreign = cells[1] with { CellId = "feedfacecafe" };
        BaselineFile.Write(Baseline, [.. cells.Skip(1), foreign]);

        var verify = Verify(results, "--junit", Junit);

        Assert.True(verify.ExitCode == 1, verify.Output);
        var cases = TestCases(Junit);
        Assert.Equal(5, cases.Count);
        Assert.Equal("not-in-baseline", cases[cells[0].CellId].Element("failure")!.Attribute("type")!.Value);
        Assert.Equal("missing-from-run", cases[foreign.CellId].Element("failure")!.Attribute("type")!.Value);
        Assert.Equal(2, cases.Values.Count(c => c.Element("failure") != null));
    }

    [Theory]
    [InlineData("--junit")]
    [InlineData("--markdown")]
    public void A_report_in_a_folder_that_does_not_exist_exits_2_before_the_comparison(string option)
    {
        string results = Accepted();
        MoveAsr(0.2);
        string path = Path.Combine(_temp["no-such-folder"], "report");

        var verify = Verify(results, option, path);

        Assert.True(verify.ExitCode == 2, verify.Output);
        Assert.Contains($"{option} {path}", verify.Stderr, StringComparison.Ordinal);
        Assert.Contains("does not exist", verify.Stderr, StringComparison.Ordinal);
        Assert.Empty(verify.Stdout);
    }

    [Fact]
    public void A_report_path_that_is_a_folder_exits_2()
    {
        string results = Accepted();

        var verify = Verify(results, "--markdown", _temp.Path);

        Assert.True(verify.ExitCode == 2, verify.Output);
        Assert.Contains("is a folder", verify.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Reports_with_accept_exit_2_and_accept_nothing()
    {
        string results = run.CopyRun(_temp);

        var verify = Verify(results, "--accept", "--junit", Junit);

        Assert.True(verify.ExitCode == 2, verify.Output);
        Assert.False(File.Exists(Baseline));
        Assert.False(File.Exists(Junit));
    }

    private static BaselineCell Cell(double asr) =>
        new("0123456789ab", "v", "llg", "", "none", "synthetic-mnist dlg-lenet B=4", 2, CellRow.Ok, new Dictionary<string, double> { ["asr"] = asr });

    [Theory]
    [InlineData(double.NaN, 0.5)]
    [InlineData(0.5, double.NaN)]
    public void A_metric_that_turns_nan_or_stops_being_nan_has_moved(double was, double now)
    {
        var matrix = MatrixLoader.Parse(VerifiedRun.Yaml, "m.yaml");

        var moved = Verifier.Compare(matrix, [Cell(was)], [Cell(now)]);

        Assert.Equal("asr", Assert.Single(moved).What);
    }

    [Fact]
    public void A_metric_that_stays_nan_has_not_moved()
    {
        var matrix = MatrixLoader.Parse(VerifiedRun.Yaml, "m.yaml");

        Assert.Empty(Verifier.Compare(matrix, [Cell(double.NaN)], [Cell(double.NaN)]));
    }

    [Fact]
    public void Baseline_values_survive_the_file_exactly()
    {
        BaselineCell[] cells = [Cell(1.0 / 3.0), Cell(double.NaN) with { CellId = "ba9876543210", Scenario = "with, a comma \"and quotes\"" }];

        BaselineFile.Write(Baseline, cells);
        var read = BaselineFile.Read(Baseline);

        Assert.Equal(cells.Length, read.Count);
        Assert.Equal(1.0 / 3.0, read[0].Metrics["asr"]);
        Assert.True(double.IsNaN(read[1].Metrics["asr"]));
        Assert.Equal(cells[1].Scenario, read[1].Scenario);
    }

    public void Dispose() => _temp.Dispose();
}
