using System.Globalization;
using DefenseBench.Core.Components;
using DefenseBench.Defenses;
using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Publishing;

/// <summary>An upper limit on a metric: a leakage metric (worst case over attacks) or a cost (utility drop, bytes, ε).</summary>
public sealed record Limit(string Metric, double Value, bool Leakage)
{
    /// <summary>Leakage metrics (higher = more leaked) with the values a limit may take.</summary>
    private static readonly Dictionary<string, (double Low, double High)> LeakageMetrics = Limited(leakage: true);

    private static readonly Dictionary<string, (double Low, double High)> CostMetrics = Limited(leakage: false);

    private static Dictionary<string, (double Low, double High)> Limited(bool leakage) => Metrics.All
        .Where(m => m.Limit && m.Kind == MetricKind.Leakage == leakage).ToDictionary(m => m.Name, m => (m.Low, m.High));

    public static Limit Parse(string text)
    {
        string fix = $"write --max METRIC=VALUE with a leakage metric among {string.Join(", ", LeakageMetrics.Keys)} " +
                     $"or a cost among {string.Join(", ", CostMetrics.Keys)}, e.g. --max asr=0.5 --max utility_drop=0.02";
        int eq = text.IndexOf('=');
        if (eq <= 0) throw new InputException($"--max {text} cannot be read", fix);
        string metric = text[..eq].Trim();
        bool leakage = LeakageMetrics.TryGetValue(metric, out var range);
        if (!leakage && !CostMetrics.TryGetValue(metric, out range)) throw new InputException($"--max {text}: {metric} is not a metric a limit can be set on", fix);
        if (!ParameterSpec.TryParseReal(text[(eq + 1)..], out double value) || !(value >= range.Low && value <= range.High))
            throw new InputException($"--max {text}: the limit is out of range for {metric}",
                $"write a number from {ParameterSpec.FormatReal(range.Low)} to {(range.High == double.MaxValue ? "any positive value" : ParameterSpec.FormatReal(range.High))}, e.g. --max {metric}={ParameterSpec.FormatReal(range.High == double.MaxValue ? 1000 : range.High / 2)}");
        return new Limit(metric, value, leakage);
    }

    public override string ToString() => $"{Metric} ≤ {ParameterSpec.FormatReal(Value)}";
}

/// <summary>One limit's reading at one setting: the upper end of the 95 % interval (worst over attacks for leakage) and its mean.</summary>
public sealed record Check(string Metric, double? Upper, double? Mean, string? WorstAttack, bool Met)
{
    /// <summary>Whether the attack that set a leakage limit's worst case knew the defence (null: no such parameter, or a cost).</summary>
    public bool? WorstAdaptive { get; init; }
}

/// <summary>One tested setting of the family, its parameter value, its checks against every limit, and its costs.</summary>
public sealed record Candidate(string Defense, double? Parameter, IReadOnlyList<Check> Checks, double? UtilityDrop, double? WireBytes, double? Epsilon)
{
    public bool Feasible => Checks.All(c => c.Met);

    public IEnumerable<Check> Violations => Checks.Where(c => !c.Met);
}

/// <summary>Where feasibility flips between two neighbouring tested values, and the limits the infeasible side breaks.</summary>
public sealed record Boundary(Candidate Feasible, Candidate Infeasible, IReadOnlyList<string> Binding);

/// <summary>The answer: the family and its swept parameter, every tested setting, the chosen one (null: none feasible), boundaries, a sweep.</summary>
public sealed record Recommendation(
    string Family,
    string? Parameter,
    string Prefer,
    IReadOnlyList<Limit> Limits,
    IReadOnlyList<Candidate> Candidates,
    Candidate? Chosen,
    IReadOnlyList<Boundary> Boundaries,
    IReadOnlyList<double> SweepValues,
    string SweepReason)
{
    /// <summary>Other parameters that differ among the family's settings: boundaries then compare settings that differ in more than one way.</summary>
    public IReadOnlyList<string> AlsoVaries { get; init; } = [];
}

/// <summary>
/// The system designer's question (issue: publishing and choosing): which setting of a defence family keeps every
/// attack's leakage under a limit — judged by the upper end of the 95 % interval over seeds, worst case over attacks
/// and scenarios, never the mean — while its costs stay within their limits; among those, the one the preference
/// favours (compression: fewest bytes on the wire; utility: smallest drop; privacy: least worst-case leakage).
/// </summary>
public static class Recommender
{
    public static readonly string[] Preferences = ["compression", "utility", "privacy"];

    public static Recommendation Recommend(IReadOnlyList<CellRow> rows, IReadOnlyList<Limit> limits, string? family, string prefer)
    {
        if (!limits.Any(l => l.Leakage)) throw new InputException("no leakage limit given", "write at least one leakage limit, e.g. --max asr=0.5");
        if (!Preferences.Contains(prefer)) throw new InputException($"--prefer {prefer} is not a preference", $"write --prefer {string.Join(", --prefer ", Preferences)}");
        var ok = rows.Where(r => r.Status == CellRow.Ok).ToList();
        var families = ok.Select(r => DefenseName.Parse(r.Defense).Family).Where(f => f != "none").Distinct().Order(StringComparer.Ordinal).ToList();
        string fix = $"write --family with one of {(families.Count == 0 ? "(none: the run tested no defence)" : string.Join(", ", families))}";
        if (family == null)
            family = families.Count == 1 ? families[0] : throw new InputException("the run tests several defence families", fix);
        else if (!families.Contains(family)) throw new InputException($"the run has no ok cell of the defence family {family}", fix);
        var settings = ok.Where(r => DefenseName.Parse(r.Defense).Family == family).GroupBy(r => r.Defense).ToList();
        foreach (var l in limits.Where(l => !settings.Any(s => s.Any(r => r.Metric(l.Metric) != null))))
            throw new InputException($"no cell of {family} reports {l.Metric}", "limit a metric the run measured (cells.csv's non-empty columns), or run the matrix with `utility` for utility_drop");

        var names = settings.Select(s => DefenseName.Parse(s.Key)).ToList();
        // The swept parameter: the one with the most distinct values (keep, z, ...); others that vary are reported.
        var varying = names[0].Parameters.Select(p => (p.Stage, p.Name)).Distinct()
            .Select(p => (Key: p, Count: names.Select(n => n.Value(p.Stage, p.Name)).Distinct().Count())).Where(p => p.Count > 1)
            .OrderByDescending(p => p.Count).Select(p => p.Key).ToList();
        var swept = varying.FirstOrDefault();
        string? parameter = swept == default ? null : swept.Name;
        var candidates = settings
            .Select(s => new Candidate(s.Key, parameter == null ? null : Number(DefenseName.Parse(s.Key).Value(swept.Stage, swept.Name)),
                limits.Select(l => Evaluate(s.ToList(), l)).ToList(), Scores.Mean(s, Metrics.UtilityDrop), Scores.Mean(s, Metrics.WireBytes), Scores.Mean(s, Metrics.Epsilon)))
            .OrderBy(c => c.Parameter ?? 0).ThenBy(c => c.Defense, StringComparer.Ordinal).ToList();

        var feasible = candidates.Where(c => c.Feasible).ToList();
        var chosen = feasible.OrderBy(c => Preference(c, prefer, limits)).ThenBy(c => c.WireBytes ?? double.MaxValue).ThenBy(c => c.Defense, StringComparer.Ordinal).FirstOrDefault();
        var boundaries = new List<Boundary>();
        for (int i = 0; i + 1 < candidates.Count; i++)
        {
            var (a, b) = (candidates[i], candidates[i + 1]);
            if (a.Feasible == b.Feasible) continue;
            var (yes, no) = a.Feasible ? (a, b) : (b, a);
            boundaries.Add(new Boundary(yes, no, no.Violations.Select(v => v.Metric).ToList()));
        }
        var (sweep, reason) = Sweep(candidates, chosen, boundaries, prefer, limits);
        var allowed = sweep.Where(v => InDomain(swept.Stage, swept.Name, v)).ToList();
        if (allowed.Count == 0 && sweep.Count > 0) reason = $"the values to try next ({string.Join(", ", sweep.Select(v => ParameterSpec.FormatReal(v)))}) lie outside what {swept.Stage} accepts for {swept.Name}";
        return new Recommendation(family, parameter, prefer, limits, candidates, chosen, boundaries, allowed, reason)
        {
            AlsoVaries = varying.Skip(1).Select(p => p.Name).ToList(),
        };
    }

    /// <summary>
    /// A limit's reading at a setting. Leakage: the upper 95 % bound of each attack (and scenario) over its seeds, the
    /// largest of them; costs: the upper bound over the setting's rows. A setting that did not measure the metric fails it.
    /// </summary>
    public static Check Evaluate(IReadOnlyList<CellRow> rows, Limit limit)
    {
        IEnumerable<IReadOnlyList<CellRow>> groups = limit.Leakage ? rows.GroupBy(r => (Scores.Scenario(r), Scores.AttackKey(r))).Select(g => (IReadOnlyList<CellRow>)g.ToList()) : [rows];
        var scores = groups.Select(g => Scores.Score(g, limit.Metric, normalise: false)).OfType<AttackScore>().ToList();
        if (scores.Count == 0) return new Check(limit.Metric, null, null, null, false);
        var worst = scores.MaxBy(s => s.Leakage.High)!;
        return new Check(limit.Metric, worst.Leakage.High, worst.Leakage.Mean, limit.Leakage ? worst.Attack : null, worst.Leakage.High <= limit.Value)
        {
            WorstAdaptive = limit.Leakage ? worst.Adaptive : null,
        };
    }

    private static double Preference(Candidate c, string prefer, IReadOnlyList<Limit> limits) => prefer switch
    {
        "utility" => c.UtilityDrop ?? double.MaxValue,
        "privacy" => c.Checks.First(x => limits.First(l => l.Metric == x.Metric).Leakage).Mean ?? double.MaxValue,
        _ => c.WireBytes ?? double.MaxValue,
    };

    /// <summary>
    /// Parameter values worth testing next. With a boundary next to the chosen setting (or, with none chosen, between
    /// settings that fail different limits), values between the two neighbours; with every setting failing the same kind
    /// of limit, values beyond the end of the tested range that fails it least. Geometric steps when both ends are positive.
    /// </summary>
    private static (List<double>, string) Sweep(List<Candidate> candidates, Candidate? chosen, List<Boundary> boundaries, string prefer, IReadOnlyList<Limit> limits)
    {
        var tested = candidates.Where(c => c.Parameter != null).ToList();
        if (tested.Count < 2) return ([], "the family has no swept parameter to refine");
        if (chosen != null)
        {
            // The boundary worth refining lies on the side the preference pulls towards (fewer bytes, for compression).
            var edge = boundaries.Where(b => b.Feasible == chosen).OrderBy(b => Preference(b.Infeasible, prefer, limits)).FirstOrDefault();
            return edge == null ? ([], "no tested boundary next to the chosen setting")
                : (Between(edge.Feasible.Parameter!.Value, edge.Infeasible.Parameter!.Value), $"the boundary lies between the chosen setting and {edge.Infeasible.Defense} ({string.Join(", ", edge.Binding)} binds)");
        }
        bool Fails(Candidate c, bool leakage) => c.Violations.Any(v => limits.First(l => l.Metric == v.Metric).Leakage == leakage);
        var kinds = tested.Select(c => (Leakage: Fails(c, true), Cost: Fails(c, false))).ToList();
        // Some settings meet the leakage limits and others the cost limits: the answer, if any, lies between the
        // nearest such pair.
        var pair = Enumerable.Range(0, tested.Count).Where(i => !kinds[i].Leakage)
            .SelectMany(i => Enumerable.Range(0, tested.Count).Where(j => !kinds[j].Cost).Select(j => (I: i, J: j)))
            .OrderBy(p => Math.Abs(p.I - p.J)).FirstOrDefault((I: -1, J: -1));
        if (pair.I >= 0)
            return (Between(tested[pair.I].Parameter!.Value, tested[pair.J].Parameter!.Value),
                $"no tested setting is feasible; {tested[pair.I].Defense} meets the leakage limits and {tested[pair.J].Defense} the cost limits");
        // Every setting fails the same kind of limit: extend the range on the side where that limit is closest to being met.
        bool leakageEverywhere = kinds.All(k => k.Leakage);
        var first = tested[0].Checks.First(c => !c.Met && limits.First(l => l.Metric == c.Metric).Leakage == leakageEverywhere).Metric;
        double? Read(Candidate c) => c.Checks.First(x => x.Metric == first).Upper;
        bool lowEnd = (Read(tested[0]) ?? double.MaxValue) <= (Read(tested[^1]) ?? double.MaxValue);
        var endKind = lowEnd ? kinds[0] : kinds[^1];
        if (!(endKind.Leakage && endKind.Cost))
        {
            var (end, next) = lowEnd ? (tested[0].Parameter!.Value, tested[1].Parameter!.Value) : (tested[^1].Parameter!.Value, tested[^2].Parameter!.Value);
            return (Beyond(end, next), $"no tested setting is feasible; every one fails {first}, least at the {(lowEnd ? "smallest" : "largest")} tested value");
        }
        // The end that fails {first} least breaks the other kind of limit too: the limits conflict over the tested range.
        // The closest approach lies where the other kind starts to fail; sweeping there shows how close the two come.
        for (int i = 0; i + 1 < tested.Count; i++)
            if (leakageEverywhere ? kinds[i].Cost != kinds[i + 1].Cost : kinds[i].Leakage != kinds[i + 1].Leakage)
                return (Between(tested[i].Parameter!.Value, tested[i + 1].Parameter!.Value),
                    $"no tested setting is feasible and the limits conflict: every one fails {first}, and those that fail it least " +
                    $"also fail {string.Join("+", (lowEnd ? tested[0] : tested[^1]).Violations.Select(v => v.Metric).Where(m => m != first))}; the closest approach lies between {tested[i].Defense} and {tested[i + 1].Defense}, where that starts");
        return ([], $"no tested setting is feasible and every one fails both leakage and cost limits; no sweep of {tested[0].Defense.Split('(')[0]} looks promising");
    }

    /// <summary>Whether the defence's catalog entry accepts <paramref name="value"/> for the parameter (unknown ones pass).</summary>
    private static bool InDomain(string stage, string name, double value)
    {
        if (!DefenseCatalog.All.TryGet(stage, out var info) || info.Parameters.FirstOrDefault(p => p.Name == name) is not { } spec) return true;
        return (spec.MinExclusive ? value > spec.Min : value >= spec.Min) && (spec.MaxExclusive ? value < spec.Max : value <= spec.Max);
    }

    /// <summary>Four values strictly between a and b: geometric when both are positive, else evenly spaced.</summary>
    public static List<double> Between(double a, double b) =>
        Enumerable.Range(1, 4).Select(k => a > 0 && b > 0 ? a * Math.Pow(b / a, k / 5.0) : a + (b - a) * k / 5.0).Select(Round).ToList();

    /// <summary>Three values continuing past <paramref name="end"/>, away from <paramref name="inside"/>, by the same ratio (or step).</summary>
    public static List<double> Beyond(double end, double inside) =>
        Enumerable.Range(1, 3).Select(k => end > 0 && inside > 0 ? end * Math.Pow(end / inside, k) : end + (end - inside) * k).Select(Round).ToList();

    private static double Round(double x) => x == 0 ? 0 : Math.Round(x, Math.Max(0, 2 - (int)Math.Floor(Math.Log10(Math.Abs(x)))));

    private static double? Number(string? text) => text != null && ParameterSpec.TryParseReal(text, out double v) ? v : null;

    public static string Show(double? x) => x == null ? "–" : x.Value.ToString("G4", CultureInfo.InvariantCulture);
}
