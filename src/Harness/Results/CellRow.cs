using CsvHelper;

namespace DefenseBench.Harness.Results;

/// <summary>
/// One row of cells.csv: one cell and seed. The column attributes are the CSV contract of DESIGN.md (names never
/// change; columns may be added; order is declaration order); metrics that do not apply to a cell stay empty.
/// </summary>
[CsvRecord]
public sealed partial record CellRow
{
    public const string Ok = "ok";
    public const string Failed = "failed";
    public const string NotApplicable = "not-applicable";

    /// <summary>Leakage and utility metric columns, in CSV order; verify and plots iterate over these.</summary>
    public static readonly string[] MetricColumns =
    [
        "asr", "asr_random", "leacc", "leacc_random", "lnacc", "lnacc_random", "irec", "psnr", "ssim", "mse",
        "utility_acc", "utility_drop", "update_cosine", "wire_bytes", "epsilon", "delta",
    ];

    [CsvColumn("cell_id")]
    public string CellId { get; init; } = "";
    [CsvColumn("block")]
    public string Block { get; init; } = "";
    [CsvColumn("attack")]
    public string Attack { get; init; } = "";
    [CsvColumn("attack_params")]
    public string AttackParams { get; init; } = "";
    [CsvColumn("defense")]
    public string Defense { get; init; } = "";
    [CsvColumn("dataset")]
    public string Dataset { get; init; } = "";
    [CsvColumn("model")]
    public string Model { get; init; } = "";
    [CsvColumn("batch_size")]
    public int BatchSize { get; init; }
    [CsvColumn("num_classes")]
    public int NumClasses { get; init; }
    [CsvColumn("labels")]
    public string Labels { get; init; } = "";
    [CsvColumn("clients")]
    public int Clients { get; init; }
    [CsvColumn("protocol")]
    public string Protocol { get; init; } = "";
    [CsvColumn("stage")]
    public string Stage { get; init; } = "";
    [CsvColumn("mode")]
    public string Mode { get; init; } = "";
    [CsvColumn("seed")]
    public int Seed { get; init; }
    [CsvColumn("status")]
    public string Status { get; init; } = "";
    [CsvColumn("error")]
    public string Error { get; init; } = "";
    [CsvColumn("asr")]
    public double? Asr { get; init; }
    [CsvColumn("asr_random")]
    public double? AsrRandom { get; init; }
    [CsvColumn("leacc")]
    public double? LeAcc { get; init; }
    [CsvColumn("leacc_random")]
    public double? LeAccRandom { get; init; }
    [CsvColumn("lnacc")]
    public double? LnAcc { get; init; }
    [CsvColumn("lnacc_random")]
    public double? LnAccRandom { get; init; }
    [CsvColumn("irec")]
    public double? IRec { get; init; }
    [CsvColumn("psnr")]
    public double? Psnr { get; init; }
    [CsvColumn("ssim")]
    public double? Ssim { get; init; }
    [CsvColumn("mse")]
    public double? Mse { get; init; }
    [CsvColumn("utility_acc")]
    public double? UtilityAcc { get; init; }
    [CsvColumn("utility_drop")]
    public double? UtilityDrop { get; init; }
    [CsvColumn("update_cosine")]
    public double? UpdateCosine { get; init; }
    [CsvColumn("wire_bytes")]
    public double? WireBytes { get; init; }
    [CsvColumn("epsilon")]
    public double? Epsilon { get; init; }
    [CsvColumn("delta")]
    public double? Delta { get; init; }
    [CsvColumn("attack_ms")]
    public double? AttackMs { get; init; }
    [CsvColumn("device")]
    public string Device { get; init; } = "";
    [CsvColumn("extras")]
    public string Extras { get; init; } = "";

    /// <summary>A metric by its column name (null when empty or unknown).</summary>
    public double? Metric(string column) => column switch
    {
        "asr" => Asr,
        "asr_random" => AsrRandom,
        "leacc" => LeAcc,
        "leacc_random" => LeAccRandom,
        "lnacc" => LnAcc,
        "lnacc_random" => LnAccRandom,
        "irec" => IRec,
        "psnr" => Psnr,
        "ssim" => Ssim,
        "mse" => Mse,
        "utility_acc" => UtilityAcc,
        "utility_drop" => UtilityDrop,
        "update_cosine" => UpdateCosine,
        "wire_bytes" => WireBytes,
        "epsilon" => Epsilon,
        "delta" => Delta,
        _ => null,
    };

    /// <summary>The key that identifies a row within a run: a cell runs once per seed.</summary>
    [CsvIgnore]
    public (string CellId, int Seed) Key => (CellId, Seed);
}
