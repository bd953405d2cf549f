using System.Text.Json.Serialization;
using DefenseBench.Harness.Baselines;
using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Publishing;

/// <summary>A mean over seeds with its 95 % confidence interval (Student's t, n − 1 degrees of freedom; a point when n = 1).</summary>
public sealed record Interval(double Mean, double Low, double High, int N)
{
    public static Interval Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("an interval needs at least one value", nameof(values));
        double mean = values.Average();
        if (values.Count == 1) return new Interval(mean, mean, mean, 1);
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        double half = StudentT975(values.Count - 1) * sd / Math.Sqrt(values.Count);
        return new Interval(mean, mean - half, mean + half, values.Count);
    }

    public bool Overlaps(Interval other) => Low <= other.High && other.Low <= High;

    /// <summary>The 97.5 % quantile of Student's t (two-sided 95 %), tabulated to 30 degrees of freedom, then the normal's 1.96.</summary>
    public static double StudentT975(int df) => df switch
    {
        < 1 => double.NaN,
        <= 30 => Table[df - 1],
        _ => 1.96,
    };

    private static readonly double[] Table =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
}

/// <summary>One attack's leakage against one defence setting: the metric it is judged by, over seeds, and the cells behind it.</summary>
public sealed record AttackScore(string Attack, string Metric, bool Normalised, Interval Leakage, IReadOnlyList<string> CellIds)
{
    /// <summary>Whether the attacker knew the defence (its `adaptive` parameter); null for an attack that has no such parameter.</summary>
    public bool? Adaptive { get; init; }

    /// <summary>The attack as a board names its worst case: "llg-plus(...), adaptive", "..., not adaptive", or the attack alone.</summary>
    [JsonIgnore]
    public string Described => Attack + Scores.AdaptiveNote(Adaptive);
}

/// <summary>
/// Leakage scores from cells.csv rows, comparable across attacks (README, publishing a leaderboard): label attacks by
/// (metric − random-guess baseline) / (1 − baseline), 0 = guessing and 1 = perfect; attacks without a random baseline
/// (image attacks' success rate) as measured. Only ok rows count.
/// </summary>
public static class Scores
{
    /// <summary>The attack as a column name: its id, with its parameters when it has any.</summary>
    public static string AttackKey(CellRow r) => r.AttackParams.Length == 0 ? r.Attack : $"{r.Attack}({r.AttackParams})";

    public static string Scenario(CellRow r) => BaselineCell.ScenarioText(r);

    /// <summary>The row's `adaptive` attack parameter (on: the attacker knew the defence), or null when the attack has none.</summary>
    public static bool? Adaptive(CellRow r) =>
        PlotRenderer.Pairs(r.AttackParams).FirstOrDefault(p => p.Name == "adaptive").Value switch { "on" => true, "off" => false, _ => null };

    /// <summary>", adaptive" or ", not adaptive" after an attack's name; nothing for an attack without the parameter.</summary>
    public static string AdaptiveNote(bool? adaptive) => adaptive switch { true => ", adaptive", false => ", not adaptive", null => "" };

    /// <summary>The metric an attack is judged by (the plots' primary metric).</summary>
    public static string MetricOf(IReadOnlyList<CellRow> attackRows) => PlotRenderer.PrimaryMetric(attackRows);

    /// <summary>The leakage of one row on <paramref name="metric"/>, normalised by the random guess where the row has one.</summary>
    public static double? Leakage(CellRow r, string metric)
    {
        double? value = r.Metric(metric);
        if (value == null) return null;
        double? random = Metrics.RandomGuessOf(r, metric);
        return random is { } b && b < 1 ? (value.Value - b) / (1 - b) : value;
    }

    /// <summary>One attack's score over the rows of one setting, or null when no row has the metric.</summary>
    public static AttackScore? Score(IReadOnlyList<CellRow> rows, string metric, bool normalise = true)
    {
        var values = rows.Select(r => normalise ? Leakage(r, metric) : r.Metric(metric)).Where(v => v != null).Select(v => v!.Value).ToList();
        if (values.Count == 0) return null;
        bool normalised = normalise && rows.Any(r => Metrics.RandomGuessOf(r, metric) is < 1);
        return new AttackScore(AttackKey(rows[0]), metric, normalised, Interval.Of(values), rows.Select(r => r.CellId).Distinct().Order(StringComparer.Ordinal).ToList())
        {
            Adaptive = Adaptive(rows[0]),
        };
    }

    /// <summary>The mean of a per-setting metric over the rows that have it (utility is measured once per setting).</summary>
    public static double? Mean(IEnumerable<CellRow> rows, MetricSpec metric)
    {
        var values = rows.Select(metric.Read).Where(v => v != null).Select(v => v!.Value).ToList();
        return values.Count == 0 ? null : values.Average();
    }
}
