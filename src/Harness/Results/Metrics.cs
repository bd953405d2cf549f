namespace DefenseBench.Harness.Results;

/// <summary>What a metric measures: what an attack learnt, what the defence cost the model, the traffic, or the privacy guarantee.</summary>
public enum MetricKind { Leakage, Utility, Cost, Privacy }

/// <summary>Which way a metric moves when things get worse for the defender (more leakage, less utility, more cost).</summary>
public enum WorseWhen { Higher, Lower }

/// <summary>
/// One metric column of cells.csv and everything the harness knows about it: its name, how it is read from and
/// written to a row, its kind, the values it can take, which direction is worse, and the column that holds a random
/// guess's value of it. <see cref="Limit"/>: `recommend --max` may cap it; <see cref="Budget"/>: `leaderboard
/// --budget` may use it; <see cref="Presence"/>: it is scored for attacks that recover only which classes are present.
/// </summary>
public sealed record MetricSpec(
    string Name,
    MetricKind Kind,
    double Low,
    double High,
    WorseWhen Worse,
    Func<CellRow, double?> Read,
    Func<CellRow, double?, CellRow> Write)
{
    /// <summary>The column holding a random guess's value of this metric (label metrics), or null.</summary>
    public string? RandomGuess { get; init; }

    /// <summary>This column is the random-guess companion of another metric.</summary>
    public bool IsRandomGuess { get; init; }

    public bool Limit { get; init; }
    public bool Budget { get; init; }
    public bool Presence { get; init; }

    /// <summary>A leakage fraction (share of labels or images recovered, or SSIM): plotted on a fixed [0, 1] axis.</summary>
    public bool Fraction => Kind == MetricKind.Leakage && !IsRandomGuess && Low >= -1 && High <= 1;

    public override string ToString() => Name;
}

/// <summary>
/// The metric table: every metric column of cells.csv once, in CSV order. The CSV contract (<see cref="CellRow"/>),
/// the metric lookup, scoring, verify, the plots, the leaderboard and recommend all read it, so adding a metric is a
/// row here, its column in <see cref="CellRow"/> and the code that scores it.
/// </summary>
public static class Metrics
{
    /// <summary>Column names, as constants for the CSV column attributes of <see cref="CellRow"/>.</summary>
    public static class Names
    {
        public const string Asr = "asr";
        public const string AsrRandom = "asr_random";
        public const string LeAcc = "leacc";
        public const string LeAccRandom = "leacc_random";
        public const string LnAcc = "lnacc";
        public const string LnAccRandom = "lnacc_random";
        public const string IRec = "irec";
        public const string Psnr = "psnr";
        public const string Ssim = "ssim";
        public const string Mse = "mse";
        public const string Success = "success";
        public const string UtilityAcc = "utility_acc";
        public const string UtilityDrop = "utility_drop";
        public const string UpdateCosine = "update_cosine";
        public const string WireBytes = "wire_bytes";
        public const string Epsilon = "epsilon";
        public const string Delta = "delta";
    }

    private const double Unbounded = double.MaxValue;

    public static readonly MetricSpec Asr = new(Names.Asr, MetricKind.Leakage, 0, 1, WorseWhen.Higher, r => r.Asr, (r, v) => r with { Asr = v })
        { RandomGuess = Names.AsrRandom, Limit = true };
    public static readonly MetricSpec AsrRandom = new(Names.AsrRandom, MetricKind.Leakage, 0, 1, WorseWhen.Higher, r => r.AsrRandom, (r, v) => r with { AsrRandom = v })
        { IsRandomGuess = true };
    public static readonly MetricSpec LeAcc = new(Names.LeAcc, MetricKind.Leakage, 0, 1, WorseWhen.Higher, r => r.LeAcc, (r, v) => r with { LeAcc = v })
        { RandomGuess = Names.LeAccRandom, Limit = true, Presence = true };
    public static readonly MetricSpec LeAccRandom = new(Names.LeAccRandom, MetricKind.Leakage, 0, 1, WorseWhen.Higher, r => r.LeAccRandom, (r, v) => r with { LeAccRandom = v })
        { IsRandomGuess = true, Presence = true };
    public static readonly MetricSpec LnAcc = new(Names.LnAcc, MetricKind.Leakage, 0, 1, WorseWhen.Higher, r => r.LnAcc, (r, v) => r with { LnAcc = v })
        { RandomGuess = Names.LnAccRandom, Limit = true };
    public static readonly MetricSpec LnAccRandom = new(Names.LnAccRandom, MetricKind.Leakage, 0, 1, WorseWhen.Higher, r => r.LnAccRandom, (r, v) => r with { LnAccRandom = v })
        { IsRandomGuess = true };
    public static readonly MetricSpec IRec = new(Names.IRec, MetricKind.Leakage, 0, 1, WorseWhen.Higher, r => r.IRec, (r, v) => r with { IRec = v })
        { Limit = true };
    public static readonly MetricSpec Psnr = new(Names.Psnr, MetricKind.Leakage, 0, 200, WorseWhen.Higher, r => r.Psnr, (r, v) => r with { Psnr = v })
        { Limit = true };
    public static readonly MetricSpec Ssim = new(Names.Ssim, MetricKind.Leakage, -1, 1, WorseWhen.Higher, r => r.Ssim, (r, v) => r with { Ssim = v })
        { Limit = true };
    public static readonly MetricSpec Mse = new(Names.Mse, MetricKind.Leakage, 0, Unbounded, WorseWhen.Lower, r => r.Mse, (r, v) => r with { Mse = v });
    public static readonly MetricSpec Success = new(Names.Success, MetricKind.Leakage, 0, 1, WorseWhen.Higher, r => r.Success, (r, v) => r with { Success = v });
    public static readonly MetricSpec UtilityAcc = new(Names.UtilityAcc, MetricKind.Utility, 0, 1, WorseWhen.Lower, r => r.UtilityAcc, (r, v) => r with { UtilityAcc = v })
        { Budget = true };
    public static readonly MetricSpec UtilityDrop = new(Names.UtilityDrop, MetricKind.Utility, 0, 1, WorseWhen.Higher, r => r.UtilityDrop, (r, v) => r with { UtilityDrop = v })
        { Limit = true, Budget = true };
    public static readonly MetricSpec UpdateCosine = new(Names.UpdateCosine, MetricKind.Utility, -1, 1, WorseWhen.Lower, r => r.UpdateCosine, (r, v) => r with { UpdateCosine = v })
        { Budget = true };
    public static readonly MetricSpec WireBytes = new(Names.WireBytes, MetricKind.Cost, 0, Unbounded, WorseWhen.Higher, r => r.WireBytes, (r, v) => r with { WireBytes = v })
        { Limit = true, Budget = true };
    public static readonly MetricSpec Epsilon = new(Names.Epsilon, MetricKind.Privacy, 0, Unbounded, WorseWhen.Higher, r => r.Epsilon, (r, v) => r with { Epsilon = v })
        { Limit = true, Budget = true };
    public static readonly MetricSpec Delta = new(Names.Delta, MetricKind.Privacy, 0, 1, WorseWhen.Higher, r => r.Delta, (r, v) => r with { Delta = v });

    /// <summary>Every metric, in cells.csv's column order.</summary>
    public static readonly IReadOnlyList<MetricSpec> All =
        [Asr, AsrRandom, LeAcc, LeAccRandom, LnAcc, LnAccRandom, IRec, Psnr, Ssim, Mse, Success, UtilityAcc, UtilityDrop, UpdateCosine, WireBytes, Epsilon, Delta];

    /// <summary>The label metrics a label attack is scored on, each with its random-guess companion (asr, leacc, lnacc).</summary>
    public static IEnumerable<MetricSpec> WithRandomGuess => All.Where(m => m.RandomGuess != null);

    private static readonly Dictionary<string, MetricSpec> ByName = All.ToDictionary(m => m.Name, StringComparer.Ordinal);

    /// <summary>The metric of a column name, or null for a name that is not one.</summary>
    public static MetricSpec? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>The random guess's value of <paramref name="metric"/> in a row, when the metric has one.</summary>
    public static double? RandomGuessOf(CellRow row, string metric) =>
        Find(metric)?.RandomGuess is { } companion ? ByName[companion].Read(row) : null;
}
