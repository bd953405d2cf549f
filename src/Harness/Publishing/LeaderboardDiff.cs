using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Publishing;

/// <summary>A setting whose rank changed (null = unranked: it missed the budget).</summary>
public sealed record RankMove(string Scenario, string Defense, int? Was, int? Is);

/// <summary>A number that moved by more than its tolerance: a per-attack or worst-case leakage mean, the utility drop or ε.</summary>
public sealed record NumberMove(string Scenario, string Defense, string What, double? Was, double? Is, double Tolerance);

/// <summary>What changed since an earlier leaderboard.json: rank moves, settings added or removed, numbers beyond tolerance.</summary>
public sealed record LeaderboardDiff(string Previous, IReadOnlyList<RankMove> RankMoves, IReadOnlyList<string> Added, IReadOnlyList<string> Removed, IReadOnlyList<NumberMove> Moved)
{
    public bool IsEmpty => RankMoves.Count == 0 && Added.Count == 0 && Removed.Count == 0 && Moved.Count == 0;

    /// <summary>Settings are matched by scenario and canonical defence string; tolerances are the new document's.</summary>
    public static LeaderboardDiff Compare(string previousName, LeaderboardDocument previous, LeaderboardDocument now)
    {
        var was = Entries(previous);
        var @is = Entries(now);
        var moves = new List<RankMove>();
        var moved = new List<NumberMove>();
        foreach (var (key, entry) in @is)
        {
            if (!was.TryGetValue(key, out var old)) continue;
            if (old.Rank != entry.Rank) moves.Add(new RankMove(key.Scenario, key.Defense, old.Rank, entry.Rank));
            double leakage = now.Tolerance.GetValueOrDefault("leakage", 0.05);
            Check(key, "worst-case leakage", old.Worst.Leakage.Mean, entry.Worst.Leakage.Mean, leakage, moved);
            foreach (var score in entry.Attacks)
                Check(key, score.Attack, old.Attacks.FirstOrDefault(a => a.Attack == score.Attack)?.Leakage.Mean, score.Leakage.Mean, leakage, moved);
            Check(key, Metrics.UtilityDrop.Name, old.UtilityDrop, entry.UtilityDrop, now.Tolerance.GetValueOrDefault(Metrics.UtilityDrop.Name, 0.01), moved);
            Check(key, Metrics.Epsilon.Name, old.Epsilon, entry.Epsilon, now.Tolerance.GetValueOrDefault(Metrics.Epsilon.Name, 0.01), moved);
        }
        static string Name((string Scenario, string Defense) k) => $"{k.Defense} ({k.Scenario})";
        return new LeaderboardDiff(previousName, moves,
            @is.Keys.Where(k => !was.ContainsKey(k)).Select(Name).ToList(),
            was.Keys.Where(k => !@is.ContainsKey(k)).Select(Name).ToList(),
            moved);
    }

    private static void Check((string Scenario, string Defense) key, string what, double? was, double? now, double tolerance, List<NumberMove> moved)
    {
        bool appeared = was == null != (now == null);
        if (appeared || was != null && now != null && Math.Abs(was.Value - now.Value) > tolerance)
            moved.Add(new NumberMove(key.Scenario, key.Defense, what, was, now, tolerance));
    }

    private static Dictionary<(string Scenario, string Defense), Entry> Entries(LeaderboardDocument document) =>
        document.Boards.SelectMany(b => b.Ranked.Concat(b.Unranked).Select(e => (Key: (b.Scenario, e.Defense), Entry: e)))
            .ToDictionary(x => x.Key, x => x.Entry);
}
