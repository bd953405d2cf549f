using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Publishing;

/// <summary>
/// `leaderboard`'s output as an <see cref="IExporter"/>: ranks the rows under a budget and writes leaderboard.json,
/// leaderboard.md and leaderboard.html as reports of the target run folder. The earlier release to diff against is
/// read by the command before anything is written, so a bad --previous writes nothing.
/// </summary>
public sealed class LeaderboardExporter(Budget budget, Manifest? manifest, (string Name, LeaderboardDocument Document)? previous) : IExporter
{
    public const string MarkdownName = "leaderboard.md";
    public const string HtmlName = "leaderboard.html";

    public string Kind => "leaderboard";

    /// <summary>The provenance line on `reproduce`'s check of the run (<see cref="Reproduce.ReproduceReport.Line"/>); null when none was made.</summary>
    public string? Reproduced { get; init; }

    /// <summary>The document the last <see cref="Export"/> wrote (the command prints its boards); null before.</summary>
    public LeaderboardDocument? Document { get; private set; }

    public IReadOnlyList<string> Export(IReadOnlyList<CellRow> rows, RunFolder run)
    {
        var doc = new LeaderboardDocument(Provenance.Of(manifest, rows) with { Reproduced = Reproduced }, budget.ToString(), LeaderboardDocument.Tolerances(manifest), Leaderboard.Build(rows, budget));
        if (previous is { } old) doc = doc with { Diff = LeaderboardDiff.Compare(old.Name, old.Document, doc) };
        Document = doc;
        var written = new List<string>();
        foreach (var (name, text) in new[]
                 {
                     (LeaderboardDocument.FileName, doc.Serialise()), (MarkdownName, LeaderboardPages.Markdown(doc)), (HtmlName, LeaderboardPages.Html(doc)),
                 })
        {
            string path = run.Report(name);
            File.WriteAllText(path, text);
            written.Add(path);
        }
        return written;
    }
}
