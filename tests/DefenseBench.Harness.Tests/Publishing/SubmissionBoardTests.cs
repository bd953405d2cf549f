using System.Security.Cryptography;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Publishing;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Publishing;

/// <summary>
/// Two submissions of one tiny suite (llg on dlg-lenet at batch 2, one seed), run through the real command line: one
/// with the built-in top-k, one with the NumPy GradPrune of examples/defenses as an exec defence, both with `none`;
/// the built-in one checked by `reproduce`. A third folder runs another suite (batch 4). Shared by the tests, which
/// edit copies only.
/// </summary>
public sealed class TwoSubmissions : IDisposable
{
    private readonly TempFolder temp = new();

    public static string Matrix(string name, string defense, int batch = 2) => $"""
        name: {name}
        seeds: 1
        tolerance: {"{"}default: 0.01{"}"}
        blocks:
          - name: {name}
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: {batch}
            labels: non-iid
            attacks: [llg]
            defenses:
              - none
              - {defense}
        """;

    public string BuiltIn { get; }

    public string Exec { get; }

    public string OtherSuite { get; }

    public string Prune { get; } = Python.Example("prune.py");

    public TwoSubmissions()
    {
        BuiltIn = Run("alice", "topk: {keep: 0.5}");
        Exec = Run("bob", $"exec: {{command: '{Python.Command(Prune)}', name: prune, params: {{keep: 0.5}}}}");
        OtherSuite = Run("carol", "topk: {keep: 0.5}", batch: 4);
        InProcess.Expect(0, "reproduce", BuiltIn, "--sample", "1", "--device", "cpu");
    }

    private string Run(string name, string defense, int batch = 2)
    {
        string matrix = temp.Write($"{name}.yaml", Matrix(name, defense, batch));
        string folder = temp[name];
        InProcess.Expect(0, "run", matrix, "--out", folder, "--device", "cpu");
        return folder;
    }

    public void Dispose() => temp.Dispose();
}

public sealed class SubmissionBoardTests(TwoSubmissions runs) : IClassFixture<TwoSubmissions>, IDisposable
{
    private readonly TempFolder _temp = new();

    private static LeaderboardDocument Load(string folder) => LeaderboardDocument.Load(Path.Combine(folder, LeaderboardDocument.FileName));

    /// <summary>A copy of bob's folder (named bob, so he stays the submitter) whose none row has leacc moved by <paramref name="by"/>; the row as it was.</summary>
    private (string Folder, CellRow Was, CellRow Now) BobWithNoneMoved(double by)
    {
        string bob = RunCopies.Copy(runs.Exec, _temp, "bob");
        string cells = Path.Combine(bob, CellsCsv.FileName);
        var rows = CellsCsv.Read(cells);
        int at = rows.FindIndex(r => r.Defense == "none");
        var was = rows[at];
        rows[at] = was with { LeAcc = was.LeAcc > 0.5 ? was.LeAcc - by : was.LeAcc + by };
        CellsCsv.Write(cells, rows);
        return (bob, was, rows[at]);
    }

    [Fact]
    public void Run_records_the_suite_hash_of_its_matrix_and_both_submissions_share_it()
    {
        var alice = Manifest.TryLoad(runs.BuiltIn)!;
        var bob = Manifest.TryLoad(runs.Exec)!;

        Assert.Equal(Suite.Sha256(MatrixLoader.Load(alice.MatrixPath)), alice.SuiteSha256);
        Assert.NotEqual(alice.MatrixSha256, bob.MatrixSha256);
        Assert.Equal(alice.SuiteSha256, bob.SuiteSha256);
        Assert.NotEqual(alice.SuiteSha256, Manifest.TryLoad(runs.OtherSuite)!.SuiteSha256);
        Assert.Equal(0.01, alice.Tolerance!["default"]);
    }

    [Fact]
    public void A_board_of_a_built_in_and_an_exec_submission_ranks_both_defences_and_one_none_together()
    {
        string board = _temp["board"];

        var result = InProcess.Expect(0, "leaderboard", runs.BuiltIn, runs.Exec, "--out", board, "--budget", "none");

        var doc = Load(board);
        var entries = Assert.Single(doc.Boards).Ranked;
        Assert.Equal(["exec(name=prune,keep=0.5)", "none", "topk(keep=0.5,scope=layer,ef=off)"], entries.Select(e => e.Defense).Order(StringComparer.Ordinal));
        Assert.Equal(["alice", "bob"], entries.Single(e => e.Defense == "none").Submissions!);
        Assert.Equal(["alice"], entries.Single(e => e.Defense.StartsWith("topk", StringComparison.Ordinal)).Submissions!);
        Assert.Equal(["bob"], entries.Single(e => e.Defense.StartsWith("exec", StringComparison.Ordinal)).Submissions!);
        // The none row both folders hold counts once: one seed, not two.
        Assert.Equal(1, entries.Single(e => e.Defense == "none").Worst.Leakage.N);
        // Ranked exactly as one folder holding all three settings would be.
        var joined = CellsCsv.Read(Path.Combine(runs.BuiltIn, CellsCsv.FileName))
            .Concat(CellsCsv.Read(Path.Combine(runs.Exec, CellsCsv.FileName)).Where(r => r.Defense != "none")).ToList();
        var alone = Leaderboard.Build(joined, Budget.None).Single().Ranked;
        Assert.Equal(alone.Select(e => (e.Defense, e.Rank, e.Worst.Leakage.Mean)), entries.Select(e => (e.Defense, e.Rank, e.Worst.Leakage.Mean)));
        Assert.Contains("2 submissions of suite", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_submission_says_which_code_ran_and_whether_reproduce_confirmed_it()
    {
        string board = _temp["board"];
        InProcess.Expect(0, "leaderboard", runs.BuiltIn, runs.Exec, "--out", board);

        var doc = Load(board);
        var (alice, bob) = (doc.Submissions![0], doc.Submissions[1]);
        Assert.Equal(("alice", runs.BuiltIn), (alice.Submitter, alice.Folder));
        Assert.StartsWith("reproduced 2 of 2 sampled cells", alice.Reproduced, StringComparison.Ordinal);
        Assert.Equal(Submission.NotReproduced, bob.Reproduced);
        var prune = Assert.Single(bob.ExecDefenses);
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(runs.Prune)));
        Assert.Equal(("prune", sha), (prune.Name, prune.Files.Single(f => f.Key.EndsWith("prune.py", StringComparison.Ordinal)).Value));
        Assert.Empty(alice.ExecDefenses);
        Assert.Equal(Manifest.TryLoad(runs.BuiltIn)!.SuiteSha256, doc.Provenance.SuiteSha256);

        string md = File.ReadAllText(Path.Combine(board, LeaderboardExporter.MarkdownName));
        Assert.Contains("| note | submitted by |", md, StringComparison.Ordinal);
        Assert.Contains("| alice, bob |", md, StringComparison.Ordinal);
        Assert.Contains($"sha256 {sha}", md, StringComparison.Ordinal);
        Assert.Contains("## Submissions", md, StringComparison.Ordinal);
        string html = File.ReadAllText(Path.Combine(board, LeaderboardExporter.HtmlName));
        Assert.Contains(">submitted by</th>", html, StringComparison.Ordinal);
        Assert.Contains("<ul class=\"submissions\">", html, StringComparison.Ordinal);
        // Each setting's provenance, one click away, names who submitted it with the code that ran.
        Assert.Contains("<dt>submitted by</dt><dd>bob (folder ", html, StringComparison.Ordinal);
        Assert.Contains("<dt>submitted by</dt><dd>alice (folder ", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_board_of_one_exec_folder_shows_the_programs_and_their_hashes_in_its_provenance()
    {
        string board = _temp["board"];
        InProcess.Expect(0, "leaderboard", runs.Exec, "--out", board);

        var doc = Load(board);
        Assert.Null(doc.Submissions);
        Assert.All(doc.Boards.SelectMany(b => b.Ranked.Concat(b.Unranked)), e => Assert.Null(e.Submissions));
        Assert.Equal("prune", Assert.Single(doc.Provenance.ExecDefenses!).Name);
        string md = File.ReadAllText(Path.Combine(board, LeaderboardExporter.MarkdownName));
        Assert.Contains($"exec defence prune: ", md, StringComparison.Ordinal);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(runs.Prune))), md, StringComparison.Ordinal);
        Assert.DoesNotContain("submitted by", md, StringComparison.Ordinal);
        Assert.DoesNotContain("\"submissions\"", File.ReadAllText(Path.Combine(board, LeaderboardDocument.FileName)), StringComparison.Ordinal);
    }

    [Fact]
    public void Folders_of_different_suites_are_refused_naming_both_and_what_differs()
    {
        string board = _temp["board"];

        var result = InProcess.Expect(2, "leaderboard", runs.BuiltIn, runs.OtherSuite, "--out", board);

        Assert.Contains($"{runs.OtherSuite} and {runs.BuiltIn} are not submissions of one suite", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("B=4", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"is in {runs.OtherSuite} only", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(board, LeaderboardDocument.FileName)));
    }

    [Fact]
    public void Folders_run_by_different_harness_versions_are_refused_naming_both_versions()
    {
        string bob = RunCopies.Copy(runs.Exec, _temp, "bob");
        RunCopies.EditManifest(bob, m => m["harness_version"] = "0.0.1-other");

        var result = InProcess.Expect(2, "leaderboard", runs.BuiltIn, bob, "--out", _temp["board"]);

        Assert.Contains($"{bob} was run with harness 0.0.1-other and {runs.BuiltIn} with harness {Manifest.BuildInfo().Version}", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_whose_manifest_has_no_suite_hash_is_refused_saying_to_re_run_it()
    {
        string bob = RunCopies.Copy(runs.Exec, _temp, "bob");
        RunCopies.EditManifest(bob, m => m.Remove("suite_sha256"));

        var result = InProcess.Expect(2, "leaderboard", runs.BuiltIn, bob, "--out", _temp["board"]);

        Assert.Contains("records no suite_sha256", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("re-run the submission's matrix with this harness", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_none_row_moved_beyond_tolerance_in_one_folder_refuses_the_merge_naming_the_cell()
    {
        var (bob, was, now) = BobWithNoneMoved(0.25);
        string board = _temp["board"];

        var result = InProcess.Expect(1, "leaderboard", runs.BuiltIn, bob, "--out", board);

        string line = Assert.Single(result.Stdout.Split('\n'), l => l.Contains("differs:", StringComparison.Ordinal));
        Assert.Contains($"cell {was.CellId} seed {was.Seed}", line, StringComparison.Ordinal);
        Assert.Contains($"leacc is {Harness.Baselines.Verifier.Format(was.LeAcc)} in alice and {Harness.Baselines.Verifier.Format(now.LeAcc)} in bob, tolerance 0.01", line, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(board, LeaderboardDocument.FileName)));
    }

    [Fact]
    public void A_none_row_moved_within_tolerance_is_merged_and_counted_once()
    {
        var (bob, _, _) = BobWithNoneMoved(0.005);

        InProcess.Expect(0, "leaderboard", runs.BuiltIn, bob, "--out", _temp["board"], "--budget", "none");

        Assert.Equal(1, Load(_temp["board"]).Boards.Single().Ranked.Single(e => e.Defense == "none").Worst.Leakage.N);
    }

    [Fact]
    public void Several_folders_need_out_and_a_folder_given_twice_is_refused()
    {
        var noOut = InProcess.Expect(2, "leaderboard", runs.BuiltIn, runs.Exec);
        var twice = InProcess.Expect(2, "leaderboard", runs.BuiltIn, runs.BuiltIn + "/", "--out", _temp["board"]);

        Assert.Contains("give --out DIR", noOut.Stderr, StringComparison.Ordinal);
        Assert.Contains("is given twice", twice.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
