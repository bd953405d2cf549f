using DefenseBench.Core.Components;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Results;

public sealed class SafePathTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> Hostile() =>
    [
        "../escape.svg", "a/../../escape.svg", "..", ".", "", "/etc/passwd", "/tmp/x.svg", "..\\escape.svg", "C:\\x.svg", "c:x.svg",
        "a\0b.svg", "line\nbreak.svg", new string('a', 256) + ".svg", new string('é', 130), "CON", "nul.svg", "COM1.txt", "lpt9",
        "trailing.", "trailing ",
    ];

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_name_that_could_leave_the_folder_or_break_a_file_system_is_an_input_error(string name)
    {
        var e = Assert.Throws<InputException>(() => SafePath.Inside(_temp.Path, name, "cells.csv"));

        Assert.StartsWith("cells.csv gives the file name", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\0', e.Message);
    }

    [Theory]
    [InlineData("recommend-topk.svg")]
    [InlineData("recommend-topk-dpsgd.svg")]
    [InlineData("a..b.png")]
    [InlineData("0123456789ab_seed0.png")]
    [InlineData("console.svg")]
    public void A_plain_file_name_is_joined_to_the_folder(string name) =>
        Assert.Equal(Path.Combine(_temp.Path, name), SafePath.Inside(_temp.Path, name, "cells.csv"));

    [Fact]
    public void Recommend_refuses_a_family_name_that_would_write_its_plot_outside_the_folder()
    {
        string run = _temp["run"];
        Directory.CreateDirectory(Path.Combine(run, "recommend-x")); // lets the kernel resolve recommend-x/.. on the old code
        var rows = new[] { 0, 1, 2 }.SelectMany(seed => new[]
        {
            SampleRows.Ok("llg", "", "none", 1, seed: seed) with { CellId = "none", UtilityDrop = 0, WireBytes = 100 },
            SampleRows.Ok("llg", "", "x/../../escaped(keep=0.5)", 0.2, seed: seed) with { CellId = "bad", UtilityDrop = 0.001, WireBytes = 50 },
        });
        CellsCsv.Write(Path.Combine(run, CellsCsv.FileName), rows);

        var result = InProcess.Run("recommend", run, "--max", "asr=0.9");

        Assert.True(result.ExitCode == 2, result.Output);
        Assert.Contains("which holds a path separator", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_temp.Path, "*.svg", SearchOption.AllDirectories));
    }
}
