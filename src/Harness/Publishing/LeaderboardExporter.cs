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

    /// <summary>The folders of a board of several submissions (their joined rows are what <see cref="Export"/> is given); null for one folder.</summary>
    public SubmissionSet? Submissions { get; init; }

    public IReadOnlyList<string> Export(IReadOnlyList<CellRow> rows, RunFolder run)
    {
        var boards = Leaderboard.Build(rows, budget);
        var doc = Submissions is { } set
            ? new LeaderboardDocument(Provenance.Of(set), budget.ToString(), LeaderboardDocument.Tolerances(set.Manifests[0]), boards.Select(b => Attributed(b, set)).ToList())
            {
                Submissions = set.Submissions,
            }
            : new LeaderboardDocument(Provenance.Of(manifest, rows) with { Reproduced = Reproduced }, budget.ToString(), LeaderboardDocument.Tolerances(manifest), boards);
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

    /// <summary>Each entry with the submitters whose folders hold its cells, in the order the folders were given.</summary>
    private static Board Attributed(Board board, SubmissionSet set)
    {
        Entry With(Entry e) => e with
        {
            Submissions = [.. set.Submissions.Select(s => s.Submitter).Where(s => e.CellIds.Any(id => set.SubmittersOf.TryGetValue(id, out var by) && by.Contains(s)))],
        };
        return board with { Ranked = [.. board.Ranked.Select(With)], Unranked = [.. board.Unranked.Select(With)] };
    }
}
