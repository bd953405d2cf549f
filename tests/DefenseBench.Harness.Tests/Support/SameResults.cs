using System.Text.RegularExpressions;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Tests.Support;

/// <summary>Asserts that two results folders hold the same run: rows, row order, plots, reconstruction grids and their index, and verify outcome.</summary>
public static partial class SameResults
{
    /// <summary>Timing and device are what a shard may change; everything else in a row must be identical.</summary>
    private static CellRow WithoutTimingAndDevice(CellRow row) => row with { AttackMs = null, Device = "" };

    /// <summary>
    /// SkiaSharp names SVG clip paths from a counter that lives as long as the process ("cl_4" in one, "cl_1c" in the
    /// next), so two renders in one test process differ in those names only: number them by first appearance.
    /// </summary>
    private static string WithNumberedClipIds(string svg)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        return ClipId().Replace(svg, m => names.TryGetValue(m.Value, out string? n) ? n : names[m.Value] = $"clip{names.Count}");
    }

    [GeneratedRegex(@"\bcl_[0-9a-f]+\b")]
    private static partial Regex ClipId();

    public static void Assert(string expectedDir, string actualDir, string matrixPath)
    {
        var expected = CellsCsv.Read(Path.Combine(expectedDir, CellsCsv.FileName)).Select(WithoutTimingAndDevice).ToArray();
        var actual = CellsCsv.Read(Path.Combine(actualDir, CellsCsv.FileName)).Select(WithoutTimingAndDevice).ToArray();
        Xunit.Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Xunit.Assert.True(expected[i] == actual[i], $"row {i + 2} differs:\n  expected {expected[i]}\n  actual   {actual[i]}");

        string[] Plots(string dir) => Directory.GetFiles(Path.Combine(dir, "plots")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Xunit.Assert.NotEmpty(Plots(expectedDir));
        Xunit.Assert.Equal(Plots(expectedDir), Plots(actualDir));
        foreach (string plot in Plots(expectedDir))
        {
            string a = Path.Combine(expectedDir, "plots", plot), b = Path.Combine(actualDir, "plots", plot);
            bool same = plot.EndsWith(".svg", StringComparison.Ordinal)
                ? WithNumberedClipIds(File.ReadAllText(a)) == WithNumberedClipIds(File.ReadAllText(b))
                : File.ReadAllBytes(a).SequenceEqual(File.ReadAllBytes(b));
            Xunit.Assert.True(same, $"plot {plot} differs");
        }

        string[] Images(string dir) => Directory.Exists(Path.Combine(dir, "images"))
            ? Directory.GetFiles(Path.Combine(dir, "images")).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray()
            : [];
        Xunit.Assert.Equal(Images(expectedDir), Images(actualDir));
        foreach (string image in Images(expectedDir))
            Xunit.Assert.True(File.ReadAllBytes(Path.Combine(expectedDir, "images", image)).SequenceEqual(File.ReadAllBytes(Path.Combine(actualDir, "images", image))),
                $"images/{image} differs");

        var verifyExpected = InProcess.Run("verify", matrixPath, "--results", expectedDir);
        var verifyActual = InProcess.Run("verify", matrixPath, "--results", actualDir);
        Xunit.Assert.Equal(verifyExpected.ExitCode, verifyActual.ExitCode);
        Xunit.Assert.Equal(verifyExpected.Stdout, verifyActual.Stdout);
    }
}
