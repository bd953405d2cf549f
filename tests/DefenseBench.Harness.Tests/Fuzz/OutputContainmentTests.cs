using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Fuzz;

/// <summary>
/// A results folder whose every text column holds a hostile value (markup, traversal, absolute paths, NUL, very
/// long and reserved names): each command that writes outputs answers exit 0, 1 or 2 without a stack trace, and
/// writes nothing outside the folder it is meant to write into.
/// </summary>
public sealed class OutputContainmentTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Names that try to leave a folder or break a file system, then the shared markup payloads.</summary>
    public static readonly string[] Names =
    [
        "../../escaped", "x/../../../escaped", "/tmp/escaped-absolute", "..\\..\\escaped", "a\0b", new string('n', 300), "CON", "nul.txt", ".", "..",
        .. HostileText.Payloads,
    ];

    public static TheoryData<int> Each() => [.. Enumerable.Range(0, Names.Length)];

    private static IEnumerable<CellRow> Rows(string name) =>
        new[] { 0.5, 0.1 }.SelectMany(keep => new[] { 0, 1, 2 }.Select(seed =>
            SampleRows.Ok(name, name, $"{name}(keep={keep})", 0.3 + keep, seed: seed) with
            {
                CellId = name + keep,
                Block = name,
                Dataset = name,
                Model = name,
                UtilityDrop = 0.01 * keep,
                UtilityAcc = 0.9,
                WireBytes = 100 * keep,
            }))
        .Concat(new[] { 0, 1, 2 }.Select(seed => SampleRows.Ok(name, "", "none", 0.9, seed: seed) with { CellId = name, UtilityDrop = 0, WireBytes = 100 }));

    private static HashSet<string> Tree(string root) => Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).ToHashSet();

    [Theory]
    [MemberData(nameof(Each))]
    public void Commands_on_a_hostile_folder_write_only_inside_their_target(int index)
    {
        string name = Names[index];
        string sandbox = _temp["sandbox"], run = Path.Combine(sandbox, "deep", "er", "run"), output = Path.Combine(sandbox, "deep", "er", "out");
        Directory.CreateDirectory(run);
        CellsCsv.Write(Path.Combine(run, CellsCsv.FileName), Rows(name));
        // Folders a traversal would need on the way out, so the kernel could resolve it if the name went unchecked.
        foreach (string prefix in new[] { "recommend-x", "x", "recommend-" }) Directory.CreateDirectory(Path.Combine(run, prefix));
        var before = Tree(sandbox);
        var escapedBefore = File.Exists("/tmp/escaped-absolute.svg");

        string[][] commands =
        [
            ["plot", run],
            ["leaderboard", run, "--budget", "none", "--out", output],
            ["recommend", run, "--max", "asr=0.95", "--out", output],
            ["recommend", run, "--max", "asr=0.95", "--family", name, "--out", output],
        ];
        foreach (var args in commands)
        {
            var result = InProcess.Run(args);
            Assert.True(result.ExitCode is 0 or 1 or 2, $"{args[0]} on '{name}': {result.Output}");
            Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", result.Output, StringComparison.Ordinal);
        }

        var added = Tree(sandbox).Except(before).Where(p => !p.StartsWith(run + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                                                            && !p.StartsWith(output, StringComparison.Ordinal)).ToList();
        Assert.Empty(added);
        Assert.Equal(escapedBefore, File.Exists("/tmp/escaped-absolute.svg"));
    }
}
