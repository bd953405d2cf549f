using System.Globalization;
using DefenseBench.Core.Components;
using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Publishing;

/// <summary>The utility budget a ranked setting must meet: "utility_drop&lt;=0.01" or "update_cosine&gt;=0.9"; null limit = none.</summary>
public sealed record Budget(string Metric, string Comparison, double? Limit)
{
    public static readonly Budget Default = new(Results.Metrics.UtilityDrop.Name, "<=", 0.01);
    public static readonly Budget None = new("", "", null);

    private static readonly string[] Metrics = [.. Results.Metrics.All.Where(m => m.Budget).Select(m => m.Name)];

    public static Budget Parse(string text)
    {
        if (text == "none") return None;
        string fix = $"write --budget METRIC<=VALUE or METRIC>=VALUE with a metric among {string.Join(", ", Metrics)}, e.g. --budget utility_drop<=0.01, or --budget none";
        foreach (string op in new[] { "<=", ">=" })
        {
            int at = text.IndexOf(op, StringComparison.Ordinal);
            if (at <= 0) continue;
            string metric = text[..at].Trim();
            if (!Metrics.Contains(metric)) throw new InputException($"--budget {text}: {metric} is not a utility metric", fix);
            if (!ParameterSpec.TryParseReal(text[(at + 2)..], out double limit) || !double.IsFinite(limit)) throw new InputException($"--budget {text}: the limit is not a number", fix);
            return new Budget(metric, op, limit);
        }
        throw new InputException($"--budget {text} cannot be read", fix);
    }

    /// <summary>Whether a setting's value meets the budget; a setting without the metric cannot show that it does.</summary>
    public bool Meets(double? value) => Limit == null || value != null && (Comparison == "<=" ? value <= Limit : value >= Limit);

    public override string ToString() => Limit == null ? "none" : $"{Metric} {Comparison} {ParameterSpec.FormatReal(Limit.Value)}";
}

/// <summary>One defence setting on a board: its per-attack scores, the worst case, its costs, and its rank (null = unranked).</summary>
public sealed record Entry(
    string Defense,
    int? Rank,
    bool SharedRank,
    AttackScore Worst,
    IReadOnlyList<AttackScore> Attacks,
    double? UtilityDrop,
    double? UtilityAcc,
    double? UpdateCosine,
    double? Epsilon,
    double? Delta,
    double? WireBytes,
    string? Unranked,
    IReadOnlyList<string> CellIds)
{
    /// <summary>On a board of several submissions, the submitters whose folders hold this setting's rows; null on a board of one folder (and left out of its JSON).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Submissions { get; init; }
}

/// <summary>The settings of one scenario: ranked ones first (by rank), then those that missed the budget.</summary>
public sealed record Board(string Scenario, IReadOnlyList<string> Attacks, IReadOnlyList<Entry> Ranked, IReadOnlyList<Entry> Unranked);

/// <summary>
/// Ranks defence settings by worst-case leakage over attacks among those that meet a utility budget (README, publishing a leaderboard).
/// The worst case is the attack with the highest mean normalised leakage; settings are ordered by it, and a setting
/// whose worst-case 95 % interval overlaps that of the first setting of the current rank group shares its rank
/// (statistical ties share a rank; the group leader keeps the rank, so a chain of overlaps does not grow a tie forever).
/// A setting that differs from a measured one only in a stateful option (<see cref="StatefulOptions"/>) is not ranked.
/// </summary>
public static class Leaderboard
{
    public static List<Board> Build(IReadOnlyList<CellRow> rows, Budget budget)
    {
        var boards = new List<Board>();
        foreach (var scenario in rows.Where(r => r.Status == CellRow.Ok).GroupBy(Scores.Scenario).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var metrics = scenario.GroupBy(Scores.AttackKey).ToDictionary(g => g.Key, g => Scores.MetricOf(g.ToList()));
            var attacks = metrics.Keys.Order(StringComparer.Ordinal).ToList();
            var entries = new List<Entry>();
            foreach (var setting in scenario.GroupBy(r => r.Defense))
            {
                var scores = setting.GroupBy(Scores.AttackKey).OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => Scores.Score(g.ToList(), metrics[g.Key])).OfType<AttackScore>().ToList();
                if (scores.Count == 0) continue;
                var worst = scores.MaxBy(s => s.Leakage.Mean)!;
                var r = setting.ToList();
                double? budgetValue = budget.Limit == null ? null : Scores.Mean(r, Results.Metrics.Find(budget.Metric)!);
                string? miss = budget.Meets(budgetValue) ? null
                    : budgetValue == null ? $"{budget.Metric} not measured" : $"misses {budget}: {budget.Metric} = {ParameterSpec.FormatReal(Math.Round(budgetValue.Value, 6))}";
                entries.Add(new Entry(setting.Key, null, false, worst, scores, Scores.Mean(r, Results.Metrics.UtilityDrop), Scores.Mean(r, Results.Metrics.UtilityAcc),
                    Scores.Mean(r, Results.Metrics.UpdateCosine), Scores.Mean(r, Results.Metrics.Epsilon), Scores.Mean(r, Results.Metrics.Delta), Scores.Mean(r, Results.Metrics.WireBytes), miss,
                    r.Select(x => x.CellId).Distinct().Order(StringComparer.Ordinal).ToList()));
            }
            // A setting that differs from another measured one only in state carried across rounds sends the same upload
            // in a single-round cell: it is listed with the reason, not ranked as a distinct defence. At a round reached by
            // training (the scenario's round > 0) that state is real and the settings are distinct.
            var measured = entries.Select(e => e.Defense).ToHashSet(StringComparer.Ordinal);
            bool singleRound = scenario.All(r => r.Round == 0);
            entries = entries.Select(e => singleRound && StatefulOptions.SameUploadAs(e.Defense, measured) is { } same
                ? e with { Unranked = e.Unranked == null ? same : $"{same}; {e.Unranked}" }
                : e).ToList();
            var ranked = Rank(entries.Where(e => e.Unranked == null).OrderBy(e => e.Worst.Leakage.Mean).ThenBy(e => e.Defense, StringComparer.Ordinal).ToList());
            var unranked = entries.Where(e => e.Unranked != null).OrderBy(e => e.Worst.Leakage.Mean).ThenBy(e => e.Defense, StringComparer.Ordinal).ToList();
            boards.Add(new Board(scenario.Key, attacks, ranked, unranked));
        }
        return boards;
    }

    /// <summary>Competition ranks over settings sorted by worst-case mean; overlapping intervals with the group leader tie.</summary>
    public static List<Entry> Rank(IReadOnlyList<Entry> sorted)
    {
        var ranked = new List<Entry>();
        Entry? leader = null;
        for (int i = 0; i < sorted.Count; i++)
        {
            var e = sorted[i];
            if (leader != null && e.Worst.Leakage.Overlaps(leader.Worst.Leakage))
            {
                ranked.Add(e with { Rank = leader.Rank, SharedRank = true });
                int at = ranked.FindIndex(x => x.Defense == leader.Defense);
                ranked[at] = ranked[at] with { SharedRank = true };
                continue;
            }
            leader = e with { Rank = i + 1 };
            ranked.Add(leader);
        }
        return ranked;
    }

    /// <summary>A number for tables: 3 significant digits, "–" for none.</summary>
    public static string Show(double? x, string format = "G3") => x == null ? "–" : double.IsPositiveInfinity(x.Value) ? "∞" : x.Value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>"0.42 [0.31, 0.53]" for a score's interval.</summary>
    public static string Show(Interval i) => i.N == 1 ? Show(i.Mean, "0.000") : $"{Show(i.Mean, "0.000")} [{Show(i.Low, "0.000")}, {Show(i.High, "0.000")}]";
}
