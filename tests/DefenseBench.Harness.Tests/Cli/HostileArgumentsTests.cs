using DefenseBench.Harness.Cli;
using DefenseBench.Harness.Tests.Publishing;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Cli;

/// <summary>Absurd arguments get an answer or an input error quickly; nothing escapes as a stack trace.</summary>
public sealed class HostileArgumentsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("leaderboard")]
    [InlineData("recommend")]
    [InlineData("merge")]
    public void An_out_that_names_an_existing_file_is_an_input_error(string command)
    {
        string file = _temp.Write("taken", "keep me");
        string[] args = command switch
        {
            "recommend" => ["recommend", LeaderboardTests.SmallRun, "--max", "asr=0.9", "--family", "topk", "--out", file],
            "merge" => ["merge", LeaderboardTests.SmallRun, "--out", file],
            _ => [command, LeaderboardTests.SmallRun, "--out", file],
        };

        var result = InProcess.Run(args);

        Assert.True(result.ExitCode == 2, result.Output);
        Assert.Contains($"--out {file} is a file, not a folder", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("keep me", File.ReadAllText(file));
    }

    [Fact]
    public void Export_updates_naming_a_file_is_refused_before_any_cell_runs()
    {
        string file = _temp.Write("taken", "keep me");
        var result = InProcess.Run("run", Repository.File("matrices", "quick.yaml"), "--out", _temp["run"], "--export-updates", file);

        Assert.True(result.ExitCode == 2, result.Output);
        Assert.Contains("--export-updates", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp["run"]));
    }

    [Theory]
    [InlineData("attack")]
    [InlineData("run")]
    [InlineData("leaderboard")]
    public void A_folder_given_as_a_file_says_so(string command)
    {
        string[] args = command switch
        {
            "attack" => ["attack", "llg", "--update", _temp.Path],
            "run" => ["run", _temp.Path],
            _ => ["leaderboard", LeaderboardTests.SmallRun, "--previous", _temp.Path, "--out", _temp["board"]],
        };

        var result = InProcess.Run(args);

        Assert.True(result.ExitCode == 2, result.Output);
        Assert.Contains("is a folder, not a file", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_exception_that_escapes_a_command_is_one_line_naming_the_command_and_input_with_exit_1()
    {
        string line = CommandLine.InternalError("plot", ["plot", "some dir"], new AggregateException(new IndexOutOfRangeException("Index was outside\nthe bounds")));

        Assert.Equal("internal error in `defensebench plot` (input: plot 'some dir'): IndexOutOfRangeException: Index was outside; " +
                     "this is a bug of the harness: please report it with this command line and the output of the same command with --verbose", line);
    }

    [Fact]
    public void An_unexpected_failure_exits_1_with_one_line_and_the_stack_trace_only_with_verbose()
    {
        string run = _temp["run"];
        Directory.CreateDirectory(run);
        File.Copy(Path.Combine(LeaderboardTests.SmallRun, "cells.csv"), Path.Combine(run, "cells.csv"));
        File.WriteAllText(Path.Combine(run, "plots"), "a file where the plots folder belongs");

        var quiet = InProcess.Run("plot", run);
        var verbose = InProcess.Run("plot", run, "--verbose");

        Assert.True(quiet.ExitCode == 1, quiet.Output);
        Assert.StartsWith("internal error in `defensebench plot` (input: plot ", quiet.Stderr, StringComparison.Ordinal);
        Assert.Single(quiet.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(1, verbose.ExitCode);
        Assert.Contains("   at ", verbose.Stderr, StringComparison.Ordinal);
    }

    private string Sweep(int seeds) => _temp.Write($"sweep{seeds}.yaml", $"""
        name: sweep
        seeds: {seeds}
        blocks:
          - name: s
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
            attacks: [llg]
            defenses: [none]
        """);

    [Theory]
    [InlineData(1000, new string[0], "= 11,000 cell runs (more than 10,000); pass --yes")]
    [InlineData(100000, new[] { "--yes" }, "= 1,100,000 cell runs, more than the 1,000,000 one run takes; split it with --shard i/n (n ≥ 2)")]
    public void A_huge_sweep_says_how_many_cell_runs_and_asks_for_yes_or_refuses_above_the_cap(int seeds, string[] extra, string message)
    {
        var result = InProcess.Run(["run", Sweep(seeds), "--out", _temp["out"], "--device", "cpu", .. extra]);

        Assert.True(result.ExitCode == 2, result.Output);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp["out"]));
    }

    [Theory]
    [InlineData("run")]
    [InlineData("bench")]
    public void Seeds_on_the_command_line_are_checked_as_the_matrix_key_is(string command)
    {
        string[] args = command == "run" ? ["run", Sweep(1), "--seeds", "100001", "--out", _temp["out"]] : ["bench", "matrix", Sweep(1), "--seeds", "100001"];

        var result = InProcess.Run(args);

        Assert.True(result.ExitCode == 2, result.Output);
        Assert.Contains("--seeds 100001 is out of range; give a count from 1 to 100000", result.Stderr, StringComparison.Ordinal);
    }
}
