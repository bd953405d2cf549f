using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace DefenseBench.Defenses.External;

/// <summary>
/// Runs an external defence's command, in its folder, without a shell. One-shot: the command with IN and OUT
/// appended, once per upload. Persistent: the command alone, kept running; each upload is one line "IN OUT" on its
/// stdin, answered by one line on its stdout, "ok" or "error MESSAGE" (examples/defenses/README.md). Either way a
/// program past its time is killed with everything it started, and a failure names the command, what went wrong and
/// the last lines of its stderr.
/// </summary>
internal sealed class ExternalProgram(ExecSettings settings) : IDisposable
{
    /// <summary>The longest answer line a persistent program may write.</summary>
    private const int MaxAnswer = 4096;

    private Process? _process;
    private StreamTail? _stderr;
    private StreamReader? _answers;

    /// <summary>The command as errors show it, cut short so that the row's error keeps room for the stderr tail.</summary>
    private string Shown => settings.Command.Length <= 160 ? $"`{settings.Command}`" : $"`{settings.Command[..160]}…`";

    /// <summary>Has the program turn <paramref name="inPath"/> into <paramref name="outPath"/>; throws <see cref="ExecDefenseException"/> when it does not.</summary>
    public void Defend(string inPath, string outPath)
    {
        if (settings.Persistent) Ask(inPath, outPath);
        else RunOnce(inPath, outPath);
    }

    private void RunOnce(string inPath, string outPath)
    {
        using var process = Start([inPath, outPath], stdin: false);
        var stderr = new StreamTail(process.StandardError.BaseStream);
        _ = new StreamTail(process.StandardOutput.BaseStream);
        if (!process.WaitForExit(settings.Timeout))
        {
            Kill(process);
            stderr.Settle(TimeSpan.FromSeconds(1));
            throw Failure($"took longer than its timeout of {Seconds(settings.Timeout)} s and was killed", stderr);
        }
        if (process.ExitCode == 0) return;
        // Only a failure reads stderr to its end, and not for long: a child the program left running may hold it open.
        stderr.Settle(TimeSpan.FromSeconds(5));
        throw Failure($"exited with status {process.ExitCode}", stderr);
    }

    private void Ask(string inPath, string outPath)
    {
        if (inPath.Any(char.IsWhiteSpace) || outPath.Any(char.IsWhiteSpace))
            throw new ExecDefenseException($"the temp folder's path '{Path.GetDirectoryName(inPath)}' has a blank in it, which the persistent protocol's \"IN OUT\" line cannot carry; set TMPDIR to a folder without blanks");
        if (_process == null)
        {
            _process = Start([], stdin: true);
            _stderr = new StreamTail(_process.StandardError.BaseStream);
            _answers = _process.StandardOutput;
        }
        try
        {
            _process.StandardInput.Write($"{inPath} {outPath}\n");
            _process.StandardInput.Flush();
        }
        catch (IOException)
        {
            throw Ended("before it was given the upload");
        }
        var reading = ReadAnswer(_answers!);
        if (!reading.Wait(settings.Timeout))
        {
            var stderr = _stderr!;
            Stop(kill: true);
            throw Failure($"gave no answer within its timeout of {Seconds(settings.Timeout)} s and was killed", stderr);
        }
        string? answer = reading.Result;
        if (answer == null) throw Ended("without answering");
        if (answer == "ok") return;
        if (answer == "error" || answer.StartsWith("error ", StringComparison.Ordinal)) throw Failure($"answered {Quote(answer)}", _stderr!);
        var tail = _stderr!;
        Stop(kill: true);
        throw Failure($"answered {Quote(answer)}, where the protocol expects \"ok\" or \"error MESSAGE\" (print anything else to stderr), and was stopped", tail);
    }

    /// <summary>One line of the answer stream, without its line end; null at the end of the stream; at most <see cref="MaxAnswer"/> characters.</summary>
    private static async Task<string?> ReadAnswer(StreamReader reader)
    {
        var line = new StringBuilder();
        var one = new char[1];
        while (await reader.ReadAsync(one.AsMemory()).ConfigureAwait(false) == 1)
        {
            if (one[0] == '\n') return line.ToString().TrimEnd('\r');
            if (line.Length == MaxAnswer) return line.Append('…').ToString();
            line.Append(one[0]);
        }
        return line.Length > 0 ? line.ToString() : null;
    }

    private ExecDefenseException Ended(string when)
    {
        var stderr = _stderr!;
        var process = _process!;
        process.WaitForExit(TimeSpan.FromSeconds(5));
        string status = process.HasExited ? $"exited with status {process.ExitCode}" : "closed its stdout";
        Stop(kill: true);
        stderr.Settle(TimeSpan.FromSeconds(1));
        return Failure($"{status} {when}", stderr);
    }

    private Process Start(IReadOnlyList<string> appended, bool stdin)
    {
        var words = ExecCommand.Split(settings.Command);
        // A program given as a path runs from the matrix's folder, as every other path of the command does (.NET would
        // resolve it against this process's working folder); a bare name is looked up on PATH.
        string program = words[0].Contains('/', StringComparison.Ordinal) ? ExecCommand.Resolve(settings.Folder, words[0]) : words[0];
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = settings.Folder,
            RedirectStandardInput = stdin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardInputEncoding = stdin ? new UTF8Encoding(false) : null,
        };
        foreach (string word in words.Skip(1).Concat(appended)) info.ArgumentList.Add(word);
        try
        {
            var process = Process.Start(info) ?? throw new ExecDefenseException($"{Shown} did not start");
            if (stdin) process.StandardInput.AutoFlush = false;
            return process;
        }
        catch (Win32Exception e)
        {
            throw new ExecDefenseException($"{Shown} could not be started in {settings.Folder}: {e.Message}");
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(5));
        }
        catch (InvalidOperationException)
        {
            // it ended on its own meanwhile
        }
    }

    /// <summary>Ends the persistent process: closing its stdin asks it to leave; it is killed if it has not within a few seconds (or at once).</summary>
    private void Stop(bool kill)
    {
        var process = _process;
        _process = null;
        _answers = null;
        _stderr = null;
        if (process == null) return;
        if (!kill)
        {
            try
            {
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // it is gone already
            }
            if (process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                process.Dispose();
                return;
            }
        }
        Kill(process);
        process.Dispose();
    }

    private ExecDefenseException Failure(string what, StreamTail stderr)
    {
        string tail = stderr.LastLines();
        return new ExecDefenseException($"{Shown} {what}" + (tail.Length > 0 ? $"; stderr ends: {tail}" : "; stderr was empty"));
    }

    private static string Quote(string answer) => "\"" + (answer.Length > 100 ? answer[..100] + "…" : answer) + "\"";

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    public void Dispose() => Stop(kill: false);
}
