using System.Diagnostics;

namespace DefenseBench.Harness.Running;

/// <summary>Cells done / total with the elapsed time and an ETA; one line per cell when output is not a terminal.</summary>
public sealed class ProgressReporter(int total, TextWriter output, bool interactive)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _done;
    private int _ranHere;

    public static ProgressReporter ForConsole(int total) => new(total, Console.Error, !Console.IsErrorRedirected);

    /// <summary>Progress on <paramref name="log"/>: redrawn in place only when that is the console's terminal.</summary>
    public static ProgressReporter For(TextWriter log, int total) =>
        ReferenceEquals(log, Console.Error) ? ForConsole(total) : new(total, log, interactive: false);

    public void Report(string what, string status, double? milliseconds)
    {
        _done++;
        _ranHere++;
        var elapsed = _clock.Elapsed;
        var eta = TimeSpan.FromTicks(elapsed.Ticks / _ranHere * Math.Max(0, total - _done));
        string line = $"[{_done}/{total} {100.0 * _done / Math.Max(1, total),3:0}%] {what} {status}" +
                      (milliseconds is { } ms ? $" {ms:0} ms" : "") + $" | elapsed {Format(elapsed)} ETA {Format(eta)}";
        if (interactive)
        {
            int width = Math.Max(40, Console.WindowWidth - 1);
            output.Write("\r" + (line.Length > width ? line[..width] : line.PadRight(width)));
            if (_done >= total) output.WriteLine();
        }
        else
        {
            output.WriteLine(line);
        }
    }

    /// <summary>Counts rows that a resumed run already had.</summary>
    public void Skip(int rows) => _done += rows;

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t:mm\\:ss}" : $"{t:m\\:ss}";
}
