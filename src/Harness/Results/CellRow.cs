using CsvHelper;

namespace DefenseBench.Harness.Results;

/// <summary>
/// One row of cells.csv: one cell and seed. The column attributes are the README's CSV contract (names never
/// change; columns may be added; order is declaration order); metrics that do not apply to a cell stay empty.
/// Only the identifying columns are required when reading, so files from older versions or merged by hand still load.
/// </summary>
[CsvRecord]
public sealed partial record CellRow
{
    public const string Ok = "ok";
    public const string Failed = "failed";
    public const string NotApplicable = "not-applicable";

    /// <summary>Metric columns, in CSV order (the metric table's names); verify and plots iterate over these.</summary>
    public static readonly string[] MetricColumns = [.. Metrics.All.Select(m => m.Name)];

    [CsvColumn("cell_id")]
    public string CellId { get; init; } = "";
    [CsvColumn("block", Optional = true)]
    public string Block { get; init; } = "";
    [CsvColumn("attack")]
    public string Attack { get; init; } = "";
    [CsvColumn("attack_params", Optional = true)]
    public string AttackParams { get; init; } = "";
    [CsvColumn("defense")]
    public string Defense { get; init; } = "";
    [CsvColumn("dataset", Optional = true)]
    public string Dataset { get; init; } = "";
    [CsvColumn("model", Optional = true)]
    public string Model { get; init; } = "";
    [CsvColumn("batch_size", Optional = true)]
    public int BatchSize { get; init; }
    [CsvColumn("num_classes", Optional = true)]
    public int NumClasses { get; init; }
    [CsvColumn("labels", Optional = true)]
    public string Labels { get; init; } = "";
    [CsvColumn("clients", Optional = true)]
    public int Clients { get; init; }
    [CsvColumn("protocol", Optional = true)]
    public string Protocol { get; init; } = "";
    [CsvColumn("stage", Optional = true)]
    public string Stage { get; init; } = "";
    [CsvColumn("mode", Optional = true)]
    public string Mode { get; init; } = "";
    [CsvColumn("seed")]
    public int Seed { get; init; }
    [CsvColumn("status")]
    public string Status { get; init; } = "";
    [CsvColumn("error", Optional = true)]
    public string Error { get; init; } = "";
    [CsvColumn(Metrics.Names.Asr, Optional = true)]
    public double? Asr { get; init; }
    [CsvColumn(Metrics.Names.AsrRandom, Optional = true)]
    public double? AsrRandom { get; init; }
    [CsvColumn(Metrics.Names.LeAcc, Optional = true)]
    public double? LeAcc { get; init; }
    [CsvColumn(Metrics.Names.LeAccRandom, Optional = true)]
    public double? LeAccRandom { get; init; }
    [CsvColumn(Metrics.Names.LnAcc, Optional = true)]
    public double? LnAcc { get; init; }
    [CsvColumn(Metrics.Names.LnAccRandom, Optional = true)]
    public double? LnAccRandom { get; init; }
    [CsvColumn(Metrics.Names.IRec, Optional = true)]
    public double? IRec { get; init; }
    [CsvColumn(Metrics.Names.Psnr, Optional = true)]
    public double? Psnr { get; init; }
    [CsvColumn(Metrics.Names.Ssim, Optional = true)]
    public double? Ssim { get; init; }
    [CsvColumn(Metrics.Names.Mse, Optional = true)]
    public double? Mse { get; init; }
    /// <summary>Share of reconstructed images whose PSNR reaches the matrix's success_psnr.</summary>
    [CsvColumn(Metrics.Names.Success, Optional = true)]
    public double? Success { get; init; }
    [CsvColumn(Metrics.Names.UtilityAcc, Optional = true)]
    public double? UtilityAcc { get; init; }
    [CsvColumn(Metrics.Names.UtilityDrop, Optional = true)]
    public double? UtilityDrop { get; init; }
    [CsvColumn(Metrics.Names.UpdateCosine, Optional = true)]
    public double? UpdateCosine { get; init; }
    [CsvColumn(Metrics.Names.WireBytes, Optional = true)]
    public double? WireBytes { get; init; }
    [CsvColumn(Metrics.Names.Epsilon, Optional = true)]
    public double? Epsilon { get; init; }
    [CsvColumn(Metrics.Names.Delta, Optional = true)]
    public double? Delta { get; init; }
    [CsvColumn("attack_ms", Optional = true)]
    public double? AttackMs { get; init; }
    [CsvColumn("device", Optional = true)]
    public string Device { get; init; } = "";
    [CsvColumn("extras", Optional = true)]
    public string Extras { get; init; } = "";
    /// <summary>What ε stands for: unit (example or client), the DP stage, q, z, steps and the optimal Rényi order.</summary>
    [CsvColumn("privacy", Optional = true)]
    public string Privacy { get; init; } = "";
    /// <summary>The FedAvg round (1-based) whose aggregate was not finite, where the utility training stopped; empty when it finished.</summary>
    [CsvColumn("utility_diverged", Optional = true)]
    public int? UtilityDiverged { get; init; }
    /// <summary>Clients left unscored and why (those that dropped out of secure aggregation); empty when every client counts.</summary>
    [CsvColumn("unscored", Optional = true)]
    public string Unscored { get; init; } = "";
    /// <summary>
    /// Rounds of federated training under the defence before the attacked one (the matrix key `round`): 0, the
    /// scenario's single round; R, the uploads of round R + 1. Files from before the key read as 0.
    /// </summary>
    [CsvColumn("round", Optional = true)]
    public int Round { get; init; }

    /// <summary>Empty strings for text columns a file lacked (optional columns read as null despite their type).</summary>
    public CellRow WithEmptyStringsForMissingColumns() => this with
    {
        CellId = CellId ?? "",
        Block = Block ?? "",
        Attack = Attack ?? "",
        AttackParams = AttackParams ?? "",
        Defense = Defense ?? "",
        Dataset = Dataset ?? "",
        Model = Model ?? "",
        Labels = Labels ?? "",
        Protocol = Protocol ?? "",
        Stage = Stage ?? "",
        Mode = Mode ?? "",
        Status = Status ?? "",
        Error = Error ?? "",
        Device = Device ?? "",
        Extras = Extras ?? "",
        Privacy = Privacy ?? "",
        Unscored = Unscored ?? "",
    };

    /// <summary>A metric by its column name (null when empty or unknown).</summary>
    public double? Metric(string column) => Metrics.Find(column)?.Read(this);

    /// <summary>The key that identifies a row within a run: a cell runs once per seed.</summary>
    [CsvIgnore]
    public (string CellId, int Seed) Key => (CellId, Seed);
}
