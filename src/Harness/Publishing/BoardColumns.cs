using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Publishing;

/// <summary>What a column shows of a leakage score: none, or an interval drawn beside its number in HTML.</summary>
public enum ColumnKind
{
    Text,
    Number,
    Leakage,
}

/// <summary>
/// One column of a board's table, defined once for leaderboard.md and leaderboard.html: its header, the text of a
/// cell (Markdown), and for the page the value its sort script orders by and, for leakage, the interval to draw.
/// </summary>
/// <param name="Header">The column's heading: a short name for an attack, whose full name <paramref name="Title"/> holds.</param>
/// <param name="Text">A cell as text: escaped by the writer, never markup.</param>
/// <param name="Kind">Text sorts by its text; a number and a leakage by <paramref name="Number"/>.</param>
public sealed record BoardColumn(string Header, Func<Entry, string> Text, ColumnKind Kind = ColumnKind.Number)
{
    /// <summary>The full name behind a short header (an attack's canonical name); null when the header is the name.</summary>
    public string? Title { get; init; }

    /// <summary>The defence setting's column, where the page opens the setting's provenance.</summary>
    public bool IsSetting { get; init; }

    /// <summary>The value the page sorts by; null: no value (sorted last either way).</summary>
    public Func<Entry, double?> Number { get; init; } = _ => null;

    /// <summary>The score a leakage column draws, with the short name of its attack for the worst-case column; null: none.</summary>
    public Func<Entry, (AttackScore Score, string? By)?> Leakage { get; init; } = _ => null;

    /// <summary>
    /// A board's columns: rank, setting, one per attack (short names), the worst case with the attack that set it,
    /// utility drop, ε at δ (in the header when all DP settings share it), bytes on the wire, why a setting is not ranked,
    /// and on a board of several submissions who submitted it.
    /// </summary>
    public static List<BoardColumn> Of(Board board, IReadOnlyDictionary<string, string> labels)
    {
        // Rank order by row (not by setting name: a board may one day hold a setting twice, from two submissions).
        var order = new Dictionary<Entry, double?>(ReferenceEqualityComparer.Instance);
        foreach (var e in board.Ranked.Concat(board.Unranked)) order[e] = order.Count;
        // One δ for every DP setting (the usual case) is said once, in the header.
        var deltas = board.Ranked.Concat(board.Unranked).Where(e => e.Epsilon != null).Select(e => e.Delta ?? double.NaN).Distinct().ToList();
        var columns = new List<BoardColumn>
        {
            new("rank", e => e.Rank == null ? "–" : (e.SharedRank ? "=" : "") + e.Rank) { Number = e => order[e] },
            new("defence setting", e => e.Defense, ColumnKind.Text) { IsSetting = true },
        };
        foreach (string attack in board.Attacks)
        {
            columns.Add(new BoardColumn(labels[attack], e => Score(e, attack) is { } s ? Leaderboard.Show(s.Leakage) : "–", ColumnKind.Leakage)
            {
                Title = attack,
                Number = e => Score(e, attack)?.Leakage.Mean,
                Leakage = e => Score(e, attack) is { } s ? (s, null) : null,
            });
        }
        columns.AddRange(
        [
            new BoardColumn("worst case", e => $"{Leaderboard.Show(e.Worst.Leakage)} ({labels[e.Worst.Attack]})", ColumnKind.Leakage)
            {
                Number = e => e.Worst.Leakage.Mean,
                Leakage = e => (e.Worst, labels[e.Worst.Attack]),
            },
            new BoardColumn("utility drop", e => Leaderboard.Show(e.UtilityDrop, "0.0000")) { Number = e => e.UtilityDrop },
            deltas is [var delta] && double.IsFinite(delta)
                ? new BoardColumn($"ε (δ = {ParameterSpec.FormatReal(delta)})", e => Leaderboard.Show(e.Epsilon)) { Number = e => e.Epsilon }
                : new BoardColumn("ε (δ)", Epsilon) { Number = e => e.Epsilon },
            new BoardColumn("wire bytes", e => Leaderboard.Show(e.WireBytes, "0")) { Number = e => e.WireBytes },
            new BoardColumn("note", e => e.Unranked ?? "", ColumnKind.Text),
        ]);
        // A board of several submissions (README, publishing a board of submissions) says whose each setting is.
        if (board.Ranked.Concat(board.Unranked).Any(e => e.Submissions != null))
            columns.Add(new BoardColumn("submitted by", e => string.Join(", ", e.Submissions ?? []), ColumnKind.Text));
        return columns;
    }

    /// <summary>"41.2 (δ = 1E-05)", or "–" for a setting without a DP stage.</summary>
    public static string Epsilon(Entry e) =>
        e.Epsilon == null ? "–" : $"{Leaderboard.Show(e.Epsilon)} (δ = {(e.Delta is { } d ? ParameterSpec.FormatReal(d) : "?")})";

    private static AttackScore? Score(Entry e, string attack) => e.Attacks.FirstOrDefault(s => s.Attack == attack);
}
