using System.Diagnostics;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Cli;

/// <summary>`privacy` with absurd arguments bounds its work: an answer or an input error within a second, never a hang.</summary>
public sealed class PrivacyBoundsTests
{
    [Theory]
    [InlineData(0, "--noise-multiplier", "1e154", "--sample-rate", "0.01", "--steps", "10")]
    [InlineData(0, "--noise-multiplier", "1e300", "--sample-rate", "0.5", "--steps", "1000000")]
    [InlineData(2, "--noise-multiplier", "1", "--sample-rate", "1e-310", "--steps", "10")]
    [InlineData(2, "--noise-multiplier", "1", "--sample-rate", "0.01", "--steps", "10", "--orders", "100000")]
    [InlineData(2, "--noise-multiplier", "1", "--sample-rate", "0.01", "--steps", "10", "--orders", "2-2000000000")]
    [InlineData(2, "--target-epsilon", "1e-9", "--sample-rate", "0.01", "--steps", "1000")]
    [InlineData(0, "--target-epsilon", "1", "--sample-rate", "0.01", "--steps", "1000", "--orders", "2-128")]
    public void Privacy_answers_or_refuses_within_a_second(int expected, params string[] args)
    {
        var clock = Stopwatch.StartNew();
        var result = InProcess.Run(["privacy", .. args]);

        Assert.True(result.ExitCode == expected, result.Output);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
    }
}
