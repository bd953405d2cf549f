using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Fuzz;

/// <summary>Every command that reads a results folder on every defect of <see cref="ResultsCorpus"/>: exit 2 naming the file, or a normal answer.</summary>
public sealed class ResultsFolderTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> Defects() => [.. ResultsCorpus.Defects().Select(f => f.Name)];

    /// <summary>The readers; each gets its own --out or writes into the folder itself.</summary>
    private static IEnumerable<string[]> Commands(string folder, string outside) =>
    [
        ["leaderboard", folder, "--budget", "none", "--out", Path.Combine(outside, "board")],
        ["recommend", folder, "--family", "topk", "--max", "asr=0.9", "--out", Path.Combine(outside, "rec")],
        ["plot", folder],
    ];

    [Theory]
    [MemberData(nameof(Defects))]
    public void Every_reader_refuses_a_damaged_results_folder_naming_the_file(string name)
    {
        var defect = ResultsCorpus.Defects().Single(d => d.Name == name);
        string folder = _temp["run"];
        ResultsCorpus.CopyGood(folder);
        defect.Damage(folder);

        foreach (var args in Commands(folder, _temp["out"]))
        {
            var result = InProcess.Run(args);
            Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", result.Output, StringComparison.Ordinal);
            if (defect.Expect == null)
            {
                Assert.True(result.ExitCode is 0 or 1, $"{args[0]}: {result.Output}");
                continue;
            }
            Assert.True(result.ExitCode == 2, $"{args[0]}: {result.Output}");
            Assert.Contains(defect.Expect, result.Stderr, StringComparison.Ordinal);
            Assert.Contains(folder, result.Stderr, StringComparison.Ordinal);
        }
    }
}
