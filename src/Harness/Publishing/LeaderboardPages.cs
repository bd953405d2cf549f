using System.Text;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Publishing;

/// <summary>
/// leaderboard.md and leaderboard.html from a <see cref="LeaderboardDocument"/>, both with the columns of
/// <see cref="BoardColumn.Of"/> and the attacks' short names above a legend of their full names. The HTML page is one
/// file: inline CSS and SVG, one inline script that sorts columns (allowed by its hash, nothing fetched; without it the
/// tables are in rank order), each setting's provenance one click away, sized for a 1280 px window and A4 landscape.
/// </summary>
public static class LeaderboardPages
{
    public const string TieNote = "Settings whose worst-case 95 % confidence intervals overlap that of the setting holding a rank share it (marked =).";

    public static string Markdown(LeaderboardDocument doc)
    {
        var md = new StringBuilder("# DefenseBench leaderboard\n\n");
        foreach (string line in ProvenanceLines(doc)) md.Append("- ").Append(Escape.Markdown(line)).Append('\n');
        if (doc.Submissions != null)
        {
            md.Append("\n## Submissions\n\n");
            foreach (var s in doc.Submissions) md.Append("- ").Append(Escape.Markdown(s.Describe())).Append('\n');
        }
        foreach (var board in doc.Boards)
        {
            md.Append($"\n## {Escape.Markdown(board.Scenario)}\n\n");
            var labels = AttackLabels.For(board.Attacks);
            var columns = BoardColumn.Of(board, labels);
            md.Append("| ").Append(string.Join(" | ", columns.Select(c => Escape.Markdown(c.Header)))).Append(" |\n|").Append(string.Concat(columns.Select(_ => "---|"))).Append('\n');
            foreach (var e in board.Ranked.Concat(board.Unranked))
                md.Append("| ").Append(string.Join(" | ", columns.Select(c => Escape.Markdown(c.Text(e))))).Append(" |\n");
            md.Append("\nAttacks:\n\n");
            foreach (string attack in board.Attacks) md.Append($"- {Escape.Markdown(labels[attack])}: {Escape.Markdown(attack)}\n");
            md.Append($"\n{Escape.Markdown(Note(doc))}\n");
        }
        if (doc.Diff != null) md.Append('\n').Append(DiffText(doc.Diff, Escape.Markdown));
        return md.ToString();
    }

    public static string Html(LeaderboardDocument doc)
    {
        var html = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append($"<meta http-equiv=\"Content-Security-Policy\" content=\"{BoardPageAssets.ContentSecurityPolicy}\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width\"><title>DefenseBench leaderboard</title><style>\n")
            .Append(BoardPageAssets.Css).Append("</style></head><body>\n<h1>DefenseBench leaderboard</h1><ul class=\"provenance\">");
        foreach (string line in ProvenanceLines(doc)) html.Append("<li>").Append(Escape.Html(line)).Append("</li>");
        html.Append("</ul>\n");
        if (doc.Submissions != null)
        {
            html.Append("<h2>Submissions</h2><ul class=\"submissions\">");
            foreach (var s in doc.Submissions) html.Append("<li>").Append(Escape.Html(s.Describe())).Append("</li>");
            html.Append("</ul>\n");
        }
        int index = 0;
        foreach (var board in doc.Boards)
        {
            html.Append($"<h2>{Escape.Html(board.Scenario)}</h2>\n").Append(BoardHtml.Table(board, index++, doc.Submissions))
                .Append("<p class=\"note\">").Append(Escape.Html(Note(doc))).Append(" Bars span 0 to 1, the interval a whisker. Click a column's header to sort by it, a setting for the cells and numbers behind it.</p>\n<div class=\"plots\">");
            foreach (string svg in Plots(board, doc.Budget)) html.Append(svg);
            html.Append("</div>\n");
        }
        if (doc.Diff != null) html.Append("<h2>Changes since the previous release</h2><pre>").Append(Escape.Html(DiffText(doc.Diff, text => text))).Append("</pre>\n");
        return html.Append("<footer>Cell ids behind every number: leaderboard.json.</footer>\n<script>").Append(BoardPageAssets.Script).Append("</script></body></html>\n").ToString();
    }

    /// <summary>What the numbers mean, under each table.</summary>
    private static string Note(LeaderboardDocument doc) =>
        "Leakage: label attacks (metric − random guess) / (1 − random guess), so 0 = guessing and 1 = perfect; image attacks by success rate. " +
        $"Mean [95 % CI] over seeds. Unranked settings miss the budget ({doc.Budget}) " +
        $"or differ from a ranked one only in state that is empty in a single-round cell. {TieNote}";

    /// <summary>One leakage-versus-utility chart per attack: x = utility drop, y = normalised leakage with its interval.</summary>
    public static IEnumerable<string> Plots(Board board, string budget)
    {
        var measured = board.Ranked.Concat(board.Unranked).Where(e => e.UtilityDrop != null).ToList();
        if (measured.Count == 0) yield break;
        var labels = AttackLabels.For(board.Attacks);
        foreach (string attack in board.Attacks)
        {
            var points = measured.Select(e => (Entry: e, Score: e.Attacks.FirstOrDefault(a => a.Attack == attack))).Where(p => p.Score != null)
                .Select(p => new ChartPoint(p.Entry.UtilityDrop!.Value, p.Score!.Leakage.Mean, p.Score.Leakage.Low, p.Score.Leakage.High,
                    p.Entry.Rank == null ? Short(p.Entry.Defense) : $"#{p.Entry.Rank} {Short(p.Entry.Defense)}", p.Entry.Rank != null)).ToList();
            if (points.Count == 0) continue;
            var chart = new SvgChart($"{labels[attack]}: leakage vs utility", "utility drop (accuracy without defence − with)", "normalised leakage", points);
            if (budget.StartsWith("utility_drop <= ", StringComparison.Ordinal) && Core.Components.ParameterSpec.TryParseReal(budget[16..], out double limit))
                chart = chart with { VerticalLines = [new ChartLine(limit, "budget")] };
            yield return chart.Render();
        }
    }

    private static IEnumerable<string> ProvenanceLines(LeaderboardDocument doc)
    {
        var p = doc.Provenance;
        yield return $"run: harness {p.HarnessVersion ?? "unknown"}, commit {p.GitCommit ?? "unknown"}";
        yield return $"matrix: {p.Matrix ?? "unknown"} (sha256 {p.MatrixSha256 ?? "unknown"})";
        if (p.SuiteSha256 != null) yield return $"suite: sha256 {p.SuiteSha256}, shared by the {doc.Submissions?.Count} submissions below";
        foreach (var e in p.ExecDefenses ?? []) yield return Submission.Exec("defence", e);
        foreach (var e in p.ExecAttacks ?? []) yield return Submission.Exec("attack", e);
        yield return $"hardware: {p.Host ?? "unknown"}; device: {(p.Device.Length > 0 ? p.Device : "unknown")}";
        if (p.Reproduced != null) yield return p.Reproduced;
        yield return $"run date: {p.RunDate?.ToString("u", System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}";
        yield return $"budget: {doc.Budget}; published by {p.PublishedBy}";
    }

    /// <summary>The diff as Markdown-like lines, every value from data passed through <paramref name="escape"/> (the output format's).</summary>
    public static string DiffText(LeaderboardDiff diff, Func<string, string> escape)
    {
        var md = new StringBuilder($"## Changes since {escape(diff.Previous)}\n\n");
        if (diff.IsEmpty) return md.Append("No rank moved, no setting was added or removed, no number moved beyond tolerance.\n").ToString();
        foreach (var m in diff.RankMoves) md.Append($"- rank {Rank(m.Was)} → {Rank(m.Is)}: {escape(m.Defense)} ({escape(m.Scenario)})\n");
        foreach (string a in diff.Added) md.Append($"- added: {escape(a)}\n");
        foreach (string r in diff.Removed) md.Append($"- removed: {escape(r)}\n");
        foreach (var n in diff.Moved)
            md.Append($"- {escape(n.What)} of {escape(n.Defense)}: {Leaderboard.Show(n.Was)} → {Leaderboard.Show(n.Is)} (tolerance {Leaderboard.Show(n.Tolerance)})\n");
        return md.ToString();
    }

    private static string Rank(int? rank) => rank?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unranked";

    /// <summary>A defence string cut to 28 characters for a chart label (the table beside it has it whole).</summary>
    private static string Short(string defense) => defense.Length <= 28 ? defense : defense[..27] + "…";

}
