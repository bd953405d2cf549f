using System.Globalization;
using System.Text;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Publishing;

/// <summary>
/// One board as an HTML table (README, publishing a leaderboard): rows in rank order, one line each; every leakage a
/// number with a bar and its 95 % interval on a fixed 0..1 scale; headers the page's script sorts by (the
/// <c>data-v</c> of each cell); each setting's provenance one click away in a &lt;details&gt;; the attacks' full names
/// in a legend under the table. Every value from data goes through <see cref="Escape.Html"/>.
/// </summary>
public static class BoardHtml
{
    /// <summary>The drawing's width in pixels: the 0..1 leakage scale.</summary>
    private const double BarWidth = 64;

    /// <param name="submissions">The submissions of a board of several folders, whose provenance a setting's block repeats; null for one folder.</param>
    public static string Table(Board board, int index, IReadOnlyList<Submission>? submissions = null)
    {
        var labels = AttackLabels.For(board.Attacks);
        var columns = BoardColumn.Of(board, labels);
        var html = new StringBuilder($"<table class=\"board\" id=\"board-{index}\"><thead><tr>");
        foreach (var c in columns)
        {
            html.Append($"<th class=\"{Class(c.Kind)}\" data-sort=\"{(c.Kind == ColumnKind.Text ? "text" : "num")}\"");
            if (c.Title != null) html.Append($" title=\"{Escape.Html(c.Title)}\"");
            html.Append('>').Append(Escape.Html(c.Header)).Append("</th>");
        }
        html.Append("</tr></thead><tbody>\n");
        foreach (var e in board.Ranked.Concat(board.Unranked))
        {
            html.Append(e.Rank == null ? "<tr class=\"unranked\">" : "<tr class=\"ranked\">");
            foreach (var c in columns) html.Append(Cell(c, e, c.IsSetting ? Provenance(e, labels, submissions) : null));
            html.Append("</tr>\n");
        }
        html.Append("</tbody></table>\n<dl class=\"legend\">");
        foreach (string attack in board.Attacks)
            html.Append("<div><dt>").Append(Escape.Html(labels[attack])).Append("</dt><dd>").Append(Escape.Html(attack)).Append("</dd></div>");
        return html.Append("</dl>\n").ToString();
    }

    /// <summary>A cell: its sort value, then the setting's provenance block, a leakage drawing, or its text (clipped, with the whole as a tooltip).</summary>
    private static string Cell(BoardColumn c, Entry e, string? provenance)
    {
        string text = c.Text(e);
        string sortBy = c.Kind == ColumnKind.Text ? text : c.Number(e) is { } n ? n.ToString("R", CultureInfo.InvariantCulture) : "";
        var td = new StringBuilder($"<td class=\"{Class(c.Kind)}\" data-v=\"{Escape.Html(sortBy)}\">");
        if (provenance != null) td.Append(provenance);
        else if (c.Leakage(e) is { } drawn) td.Append(Leakage(drawn.Score, drawn.By));
        else if (c.Kind == ColumnKind.Text && text.Length > 0) td.Append($"<span class=\"clip\" title=\"{Escape.Html(text)}\">{Escape.Html(text)}</span>");
        else td.Append(Escape.Html(text));
        return td.Append("</td>").ToString();
    }

    private static string Class(ColumnKind kind) => kind switch
    {
        ColumnKind.Text => "text",
        ColumnKind.Leakage => "leak",
        _ => "num",
    };

    /// <summary>"0.412", a bar from 0 to the mean with the interval as a whisker (N = 1: none), and the attack that set it.</summary>
    public static string Leakage(AttackScore score, string? by)
    {
        var i = score.Leakage;
        string mean = Leaderboard.Show(i.Mean, "0.000");
        string described = i.N == 1 ? $"{mean} (one seed)" : $"{mean}, 95 % interval [{Leaderboard.Show(i.Low, "0.000")}, {Leaderboard.Show(i.High, "0.000")}] over {i.N} seeds";
        var svg = new StringBuilder($"<span class=\"v\">{mean}</span><svg class=\"bar\" width=\"{BarWidth}\" height=\"12\" viewBox=\"0 0 {BarWidth} 12\" role=\"img\">")
            .Append($"<title>{Escape.Html(described)}</title><rect class=\"track\" x=\"0\" y=\"3\" width=\"{BarWidth}\" height=\"6\"/>")
            .Append($"<rect class=\"fill\" x=\"0\" y=\"3\" width=\"{X(i.Mean)}\" height=\"6\"/>");
        if (i.N > 1) svg.Append($"<path class=\"whisker\" d=\"M{X(i.Low)} 6H{X(i.High)}M{X(i.Low)} 2V10M{X(i.High)} 2V10\"/>");
        svg.Append("</svg>");
        if (by != null) svg.Append($"<span class=\"by\">{Escape.Html(by)}</span>");
        return svg.ToString();
    }

    /// <summary>A leakage on the bar's 0..1 scale, clamped to it (below guessing and above 1 draw at the ends).</summary>
    private static string X(double leakage) =>
        (Math.Clamp(double.IsNaN(leakage) ? 0 : leakage, 0, 1) * BarWidth).ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>
    /// The setting's name (clipped to the cell, whole in its tooltip), opening onto where its numbers come from: the
    /// full defence string, each attack's full name, metric and interval with the cells behind it, and the setting's
    /// <see cref="Facts"/>.
    /// </summary>
    private static string Provenance(Entry e, IReadOnlyDictionary<string, string> labels, IReadOnlyList<Submission>? submissions)
    {
        var html = new StringBuilder($"<details><summary title=\"{Escape.Html(e.Defense)}\">{Escape.Html(e.Defense)}</summary><div class=\"card\">")
            .Append($"<p><b>defence setting</b> <code>{Escape.Html(e.Defense)}</code></p><table class=\"facts\"><tr><th>attack</th><th>canonical name</th><th>metric</th><th>leakage</th><th>cells</th></tr>");
        foreach (var s in e.Attacks)
        {
            html.Append("<tr><td>").Append(Escape.Html(labels[s.Attack])).Append("</td><td><code>").Append(Escape.Html(s.Described)).Append("</code></td><td>")
                .Append(Escape.Html(s.Normalised ? $"{s.Metric}, normalised by the random guess" : s.Metric)).Append("</td><td>")
                .Append(Escape.Html($"{Leaderboard.Show(s.Leakage)} ({s.Leakage.N} seed{(s.Leakage.N == 1 ? "" : "s")})")).Append("</td><td>")
                .Append(Escape.Html(string.Join(", ", s.CellIds))).Append("</td></tr>");
        }
        html.Append("</table><dl>");
        foreach (var (label, value) in Facts(e))
            html.Append("<dt>").Append(Escape.Html(label)).Append("</dt><dd>").Append(Escape.Html(value)).Append("</dd>");
        // Whose numbers these are: each submitter's folder, commit, code hashes and whether reproduce confirmed it.
        foreach (var s in submissions?.Where(s => e.Submissions?.Contains(s.Submitter) == true) ?? [])
            html.Append("<dt>submitted by</dt><dd>").Append(Escape.Html(s.Describe())).Append("</dd>");
        return html.Append("</dl></div></details>").ToString();
    }

    /// <summary>What a setting's provenance block lists besides its attacks: its costs, its rank's reason and its cells.</summary>
    public static IEnumerable<(string Label, string Value)> Facts(Entry e)
    {
        yield return ("rank", e.Rank == null ? $"not ranked: {e.Unranked}" : $"{(e.SharedRank ? "shared " : "")}{e.Rank}, by worst-case leakage {Leaderboard.Show(e.Worst.Leakage)} ({e.Worst.Described})");
        yield return ("utility drop", Leaderboard.Show(e.UtilityDrop, "0.0000"));
        yield return ("test accuracy", Leaderboard.Show(e.UtilityAcc, "0.0000"));
        yield return ("update cosine", Leaderboard.Show(e.UpdateCosine, "0.0000"));
        yield return ("ε (δ)", BoardColumn.Epsilon(e));
        yield return ("bytes on the wire", Leaderboard.Show(e.WireBytes, "0"));
        yield return ("cells", string.Join(", ", e.CellIds));
    }
}
