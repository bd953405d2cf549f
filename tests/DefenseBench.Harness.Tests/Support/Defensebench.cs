using System.Diagnostics;
using System.Text;

namespace DefenseBench.Harness.Tests.Support;

/// <summary>
/// The real `defensebench` program (the defensebench.dll copied next to the test assembly), started with dotnet.
/// Its output is drained as it comes so the child never blocks on a full pipe.
/// </summary>
public sealed class Defensebench : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "defensebench.dll");

    private Defensebench(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static Defensebench Start(string workingDirectory, params string[] args)
    {
        Assert.True(File.Exists(Dll), $"{Dll} is missing: the Harness project should be copied next to the test assembly");
        return Launch("dotnet", workingDirectory, new Dictionary<string, string>(), [Dll, .. args]);
    }

    /// <summary>
    /// A shell script that runs the harness (the deploy/ scripts), with <paramref name="environment"/> added and
    /// DEFENSEBENCH set to the command that starts this program.
    /// </summary>
    public static Defensebench StartScript(string workingDirectory, string script, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var env = new Dictionary<string, string>(environment) { ["DEFENSEBENCH"] = $"dotnet {Dll}" };
        return Launch("bash", workingDirectory, env, [script, .. args]);
    }

    private static Defensebench Launch(string program, string workingDirectory, IReadOnlyDictionary<string, string> environment, string[] args)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        return new Defensebench(Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start"));
    }

    /// <summary>Waits for the program to end and fails the test, showing its output, unless it exits with <paramref name="expected"/>.</summary>
    public string Expect(int expected, TimeSpan timeout)
    {
        Assert.True(WaitForExit(timeout), $"still running after {timeout}; output:\n{Output}");
        _process.WaitForExit();
        Assert.True(ExitCode == expected, $"expected exit {expected}, got {ExitCode}; output:\n{Output}");
        return Output;
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything printed so far (stdout and stderr interleaved).</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>Kills the program and everything it started, and waits until it is gone.</summary>
    public void KillTree()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    private void Append(string? line)
    {
        if (line == null) return;
        lock (_output) _output.AppendLine(line);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
    }
}
