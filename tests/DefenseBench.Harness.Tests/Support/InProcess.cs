using System.Globalization;
using DefenseBench.Harness.Cli;

namespace DefenseBench.Harness.Tests.Support;

/// <summary>What one in-process CLI call printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Everything the call printed, for assertion messages.</summary>
    public string Output => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>Calls the `defensebench` command line in-process, capturing its output.</summary>
public static class InProcess
{
    public static CliResult Run(params string[] args)
    {
        using var stdout = new StringWriter(CultureInfo.InvariantCulture);
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);
        int code = CommandLine.Invoke(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs the command and fails the test, showing the output, unless it exits with <paramref name="expected"/>.</summary>
    public static CliResult Expect(int expected, params string[] args)
    {
        var result = Run(args);
        Assert.True(result.ExitCode == expected, $"expected exit {expected} from `defensebench {string.Join(' ', args)}`\n{result.Output}");
        return result;
    }
}
