using System.Text.Json;
using System.Text.Json.Serialization;
using DefenseBench.Core.Components;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Publishing;

/// <summary>
/// Where the numbers come from: the harness version and commit, matrix and hash, host and device and date of the run
/// (from manifest.json when the folder has one; else what cells.csv says), and the harness that published them.
/// </summary>
public sealed record Provenance(
    string? HarnessVersion,
    string? GitCommit,
    string? Matrix,
    string? MatrixSha256,
    string? Host,
    string Device,
    DateTimeOffset? RunDate,
    string PublishedBy,
    DateTimeOffset Published)
{
    /// <summary>What `reproduce` found ("reproduced k of n sampled cells ..."), or why its report could not be read; null when the folder has none.</summary>
    /// <remarks>Left out of the JSON when null, so a board of a folder never reproduced reads as before.</remarks>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reproduced { get; init; }

    public static Provenance Of(Manifest? manifest, IReadOnlyList<CellRow> rows)
    {
        var (version, commit) = Manifest.BuildInfo();
        string device = manifest?.Device is { Length: > 0 } d ? d : string.Join(", ", rows.Select(r => r.Device).Where(x => x.Length > 0).Distinct().Order(StringComparer.Ordinal));
        string? host = manifest == null ? null : $"{manifest.Host.Cpu}, {manifest.Host.Cores} cores, {manifest.Host.Os}";
        return new Provenance(manifest?.HarnessVersion, manifest?.GitCommit, manifest?.Matrix, manifest?.MatrixSha256, host, device,
            manifest?.Finished ?? manifest?.Started, commit == null ? $"defensebench {version}" : $"defensebench {version} ({commit})", DateTimeOffset.UtcNow);
    }
}

/// <summary>leaderboard.json: provenance, the budget and tolerances used, the boards, and the diff against a previous release.</summary>
public sealed record LeaderboardDocument(Provenance Provenance, string Budget, IReadOnlyDictionary<string, double> Tolerance, IReadOnlyList<Board> Boards)
{
    public const string FileName = "leaderboard.json";

    public LeaderboardDiff? Diff { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = Escape.Json,
    };

    /// <summary>
    /// Tolerances for the diff: the leakage and utility tolerances of the matrix named in the manifest when that file
    /// can still be read, else 0.05 for leakage and 0.01 for utility.
    /// </summary>
    public static Dictionary<string, double> Tolerances(Manifest? manifest)
    {
        var tolerance = new Dictionary<string, double> { ["leakage"] = 0.05, [Metrics.UtilityDrop.Name] = 0.01, [Metrics.Epsilon.Name] = 0.01 };
        if (manifest?.MatrixPath is not { Length: > 0 } path || !File.Exists(path)) return tolerance;
        try
        {
            var matrix = MatrixLoader.Load(path);
            tolerance["leakage"] = Metrics.WithRandomGuess.Select(m => m.Name).Max(matrix.ToleranceFor);
            tolerance[Metrics.UtilityDrop.Name] = matrix.ToleranceFor(Metrics.UtilityDrop.Name);
        }
        catch (Exception e) when (e is MatrixException or InputException)
        {
            // the matrix changed or moved since the run: keep the defaults
        }
        return tolerance;
    }

    public string Serialise() => JsonSerializer.Serialize(this, Json) + "\n";

    public static LeaderboardDocument Load(string path)
    {
        if (!File.Exists(path)) throw new InputException($"{path} does not exist", "give --previous the leaderboard.json of an earlier release");
        try
        {
            return JsonSerializer.Deserialize<LeaderboardDocument>(File.ReadAllText(path), Json)
                   ?? throw new InputException($"{path} is empty", "give --previous a leaderboard.json written by `leaderboard`");
        }
        catch (JsonException e)
        {
            throw new InputException($"{path} is not a leaderboard.json ({e.Message})", "give --previous a leaderboard.json written by `leaderboard`");
        }
    }
}
