using System.Diagnostics;

namespace DefenseBench.Harness.Tests.Support;

/// <summary>
/// The Python interpreter the exec-defence tests run their NumPy programs with: DEFENSEBENCH_PYTHON when set, else the
/// first of `python3` on PATH and Debian's /usr/bin/python3 that imports NumPy (a pyenv or venv python3 earlier on PATH
/// may lack it). None: the tests that need it fail, saying how to provide one; they never skip.
/// </summary>
public static class Python
{
    private static readonly Lazy<string?> Found = new(Find);

    public const string Variable = "DEFENSEBENCH_PYTHON";

    /// <summary>The interpreter's path or name, quoted for an exec command line.</summary>
    public static string Interpreter
    {
        get
        {
            string? found = Found.Value;
            Assert.True(found != null,
                $"no Python with NumPy: `python3` and /usr/bin/python3 cannot import numpy and {Variable} is not set; install Debian's python3-numpy (.ci/run does) or set {Variable} to an interpreter that has it");
            return $"\"{found}\"";
        }
    }

    /// <summary>An exec command that runs the Python file <paramref name="script"/> (an absolute path) with the interpreter, and <paramref name="arguments"/>.</summary>
    public static string Command(string script, params string[] arguments) => string.Join(' ', [Interpreter, $"\"{script}\"", .. arguments]);

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } chosen) return chosen;
        return new[] { "python3", "/usr/bin/python3" }.FirstOrDefault(HasNumpy);
    }

    private static bool HasNumpy(string interpreter)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(interpreter, ["-c", "import numpy"])
            {
                UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true,
            });
            if (process == null) return false;
            process.StandardError.ReadToEnd();
            return process.WaitForExit(TimeSpan.FromSeconds(60)) && process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>A test program of Running/ExecPrograms.</summary>
    public static string Fixture(string name) => Repository.File("tests", "DefenseBench.Harness.Tests", "Running", "ExecPrograms", name);

    /// <summary>An example defence of examples/defenses.</summary>
    public static string Example(string name) => Repository.File("examples", "defenses", name);
}
