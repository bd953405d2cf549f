namespace DefenseBench.Harness.Results;

/// <summary>
/// One output made from a finished run's rows inside its run folder (a kind of plot, the image index, a report), in
/// the spirit of BenchmarkDotNet's IExporter. `run`, `plot` and `merge` walk the same list (Plots/RunExporters), so a
/// new output of every run is one exporter added there; `leaderboard` and `recommend` each call their own exporter
/// (Publishing/LeaderboardExporter, Publishing/RecommendationExporter), made with the command's options.
/// </summary>
public interface IExporter
{
    /// <summary>What it writes, as the summary line counts it: "plots" or "reconstructions" (or "leaderboard", "recommendation").</summary>
    string Kind { get; }

    /// <summary>Writes its files from the rows (all statuses); returns their paths, none when there is nothing to show.</summary>
    IReadOnlyList<string> Export(IReadOnlyList<CellRow> rows, RunFolder run);
}
