using System.Text;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Publishing;

/// <summary>
/// leaderboard.md and leaderboard.html from a <see cref="LeaderboardDocument"/>. The HTML page is one file: inline CSS
/// and SVG, nothing fetched, no scripts, so it opens offline and prints (tables do not split rows across pages).
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
            var header = Header(doc, board).Select(Escape.Markdown).ToList();
            md.Append("| ").Append(string.Join(" | ", header)).Append(" |\n|").Append(string.Concat(header.Select(_ => "---|"))).Append('\n');
            foreach (var e in board.Ranked.Concat(board.Unranked))
                md.Append("| ").Append(string.Join(" | ", Cells(board, e).Select(Escape.Markdown))).Append(" |\n");
            md.Append($"\nLeakage: label attacks (metric − random guess) / (1 − random guess), so 0 = guessing and 1 = perfect; " +
                      $"image attacks by success rate. Mean [95 % CI] over seeds. Unranked settings miss the budget ({Escape.Markdown(doc.Budget)}) or differ from a ranked one only in state that is empty in a single-round cell. {TieNote}\n");
        }
        if (doc.Diff != null) md.Append('\n').Append(DiffText(doc.Diff, Escape.Markdown));
        return md.ToString();
    }

    public static string Html(LeaderboardDocument doc)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>DefenseBench leaderboard</title><style>")
            .Append("body{font-family:sans-serif;margin:2em;color:#222;max-width:1400px}table{border-collapse:collapse;margin:1em 0;font-size:13px}")
            .Append("th,td{border:1px solid #bbb;padding:3px 7px;text-align:right}td.setting,th{text-align:left}th{background:#eee}")
            .Append("tr.unranked td{color:#777;background:#fafafa}tr{page-break-inside:avoid}.plots{display:flex;flex-wrap:wrap;gap:1em}")
            .Append("footer,.note{font-size:12px;color:#555}@media print{body{margin:0}.plots svg{width:48%;height:auto}}</style></head><body>\n")
            .Append("<h1>DefenseBench leaderboard</h1><ul class=\"provenance\">");
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
            html.Append($"<h2>{Escape.Html(board.Scenario)}</h2>\n<table class=\"board\" id=\"board-{index++}\"><thead><tr>");
            foreach (string h in Header(doc, board)) html.Append("<th>").Append(Escape.Html(h)).Append("</th>");
            html.Append("</tr></thead><tbody>\n");
            foreach (var e in board.Ranked.Concat(board.Unranked))
            {
                var cells = Cells(board, e);
                html.Append(e.Rank == null ? "<tr class=\"unranked\">" : "<tr class=\"ranked\">")
                    .Append("<td class=\"rank\">").Append(Escape.Html(cells[0])).Append("</td><td class=\"setting\">").Append(Escape.Html(cells[1])).Append("</td>");
                foreach (string c in cells.Skip(2)) html.Append("<td>").Append(Escape.Html(c)).Append("</td>");
                html.Append("</tr>\n");
            }
            html.Append("</tbody></table>\n<p class=\"note\">Leakage: label attacks (metric − random guess) / (1 − random guess), 0 = guessing, 1 = perfect; ")
                .Append($"image attacks by success rate; mean [95 % CI] over seeds. Unranked settings miss the budget ({Escape.Html(doc.Budget)}) or differ from a ranked one only in state that is empty in a single-round cell. {Escape.Html(TieNote)}</p>\n<div class=\"plots\">");
            foreach (string svg in Plots(board, doc.Budget)) html.Append(svg);
            html.Append("</div>\n");
        }
        if (doc.Diff != null) html.Append("<h2>Changes since the previous release</h2><pre>").Append(Escape.Html(DiffText(doc.Diff, text => text))).Append("</pre>\n");
        return html.Append("<footer>Cell ids behind every number: leaderboard.json.</footer></body></html>\n").ToString();
    }

    /// <summary>One leakage-versus-utility chart per attack: x = utility drop, y = normalised leakage with its interval.</summary>
    public static IEnumerable<string> Plots(Board board, string budget)
    {
        var measured = board.Ranked.Concat(board.Unranked).Where(e => e.UtilityDrop != null).ToList();
        if (measured.Count == 0) yield break;
        foreach (string attack in board.Attacks)
        {
            var points = measured.Select(e => (Entry: e, Score: e.Attacks.FirstOrDefault(a => a.Attack == attack))).Where(p => p.Score != null)
                .Select(p => new ChartPoint(p.Entry.UtilityDrop!.Value, p.Score!.Leakage.Mean, p.Score.Leakage.Low, p.Score.Leakage.High,
                    p.Entry.Rank == null ? Short(p.Entry.Defense) : $"#{p.Entry.Rank} {Short(p.Entry.Defense)}", p.Entry.Rank != null)).ToList();
            if (points.Count == 0) continue;
            var chart = new SvgChart($"{attack}: leakage vs utility", "utility drop (accuracy without defence − with)", "normalised leakage", points);
            if (budget.StartsWith("utility_drop <= ", StringComparison.Ordinal) && Core.Components.ParameterSpec.TryParseReal(budget[16..], out double limit))
                chart = chart with { VerticalLines = [new ChartLine(limit, "budget")] };
            yield return chart.Render();
        }
    }

    /// <summary>The table's columns; a board of several submissions adds "submitted by" at the end.</summary>
    private static List<string> Header(LeaderboardDocument doc, Board board) =>
        ["rank", "defence setting", .. board.Attacks, "worst case", "utility drop", "ε (δ)", "wire bytes", "note", .. doc.Submissions == null ? Array.Empty<string>() : ["submitted by"]];

    private static List<string> Cells(Board board, Entry e) =>
    [
        e.Rank == null ? "–" : (e.SharedRank ? "=" : "") + e.Rank,
        e.Defense,
        .. board.Attacks.Select(a => e.Attacks.FirstOrDefault(s => s.Attack == a) is { } s ? Leaderboard.Show(s.Leakage) : "–"),
        $"{Leaderboard.Show(e.Worst.Leakage)} ({e.Worst.Described})",
        Leaderboard.Show(e.UtilityDrop, "0.0000"),
        e.Epsilon == null ? "–" : $"{Leaderboard.Show(e.Epsilon)} (δ = {(e.Delta is { } d ? Core.Components.ParameterSpec.FormatReal(d) : "?")})",
        Leaderboard.Show(e.WireBytes, "0"),
        e.Unranked ?? "",
        .. e.Submissions == null ? Array.Empty<string>() : [string.Join(", ", e.Submissions)],
    ];

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
