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

    /// <summary>The programs the run's exec defences ran (name, command, SHA-256 of each file it names); null when none did.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ExecRecord>? ExecDefenses { get; init; }

    /// <summary>The programs the run's exec attacks ran; null when none did.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ExecRecord>? ExecAttacks { get; init; }

    /// <summary>On a board of several submissions, the suite they share (each submission's own provenance is in the document's submissions); else null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SuiteSha256 { get; init; }

    public static Provenance Of(Manifest? manifest, IReadOnlyList<CellRow> rows)
    {
        string device = manifest?.Device is { Length: > 0 } d ? d : Distinct(rows.Select(r => r.Device));
        string? host = manifest == null ? null : HostOf(manifest);
        return new Provenance(manifest?.HarnessVersion, manifest?.GitCommit, manifest?.Matrix, manifest?.MatrixSha256, host, device,
            manifest?.Finished ?? manifest?.Started, PublishedByThis(), DateTimeOffset.UtcNow)
        {
            ExecDefenses = manifest?.ExecDefenses is { Count: > 0 } defenses ? defenses : null,
            ExecAttacks = manifest?.ExecAttacks is { Count: > 0 } attacks ? attacks : null,
        };
    }

    /// <summary>
    /// A board of several submissions: their shared harness version and suite, and the commits, matrices, hosts and
    /// devices of all of them (distinct, comma-separated); the run date is the latest.
    /// </summary>
    public static Provenance Of(SubmissionSet set) => Of(set.Manifests) with { SuiteSha256 = set.SuiteSha256 };

    private static Provenance Of(IReadOnlyList<Manifest> manifests) =>
        new(manifests[0].HarnessVersion, NullIfEmpty(Distinct(manifests.Select(m => m.GitCommit ?? ""))), Distinct(manifests.Select(m => m.Matrix)),
            Distinct(manifests.Select(m => m.MatrixSha256)), Distinct(manifests.Select(HostOf)), Distinct(manifests.Select(m => m.Device)),
            manifests.Max(m => m.Finished ?? m.Started), PublishedByThis(), DateTimeOffset.UtcNow);

    private static string HostOf(Manifest manifest) => $"{manifest.Host.Cpu}, {manifest.Host.Cores} cores, {manifest.Host.Os}";

    private static string Distinct(IEnumerable<string> values) => string.Join(", ", values.Where(x => x.Length > 0).Distinct().Order(StringComparer.Ordinal));

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;

    private static string PublishedByThis()
    {
        var (version, commit) = Manifest.BuildInfo();
        return commit == null ? $"defensebench {version}" : $"defensebench {version} ({commit})";
    }
}

/// <summary>leaderboard.json: provenance, the budget and tolerances used, the boards, and the diff against a previous release.</summary>
public sealed record LeaderboardDocument(Provenance Provenance, string Budget, IReadOnlyDictionary<string, double> Tolerance, IReadOnlyList<Board> Boards)
{
    public const string FileName = "leaderboard.json";

    public LeaderboardDiff? Diff { get; init; }

    /// <summary>On a board of several results folders, each folder's submission (who, which code, whether reproduced); null for one folder.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Submission>? Submissions { get; init; }

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
    /// can still be read, else of the tolerance map the manifest recorded, else 0.05 for leakage and 0.01 for utility.
    /// </summary>
    public static Dictionary<string, double> Tolerances(Manifest? manifest)
    {
        var tolerance = new Dictionary<string, double> { ["leakage"] = 0.05, [Metrics.UtilityDrop.Name] = 0.01, [Metrics.Epsilon.Name] = 0.01 };
        void From(Func<string, double> toleranceFor)
        {
            tolerance["leakage"] = Metrics.WithRandomGuess.Select(m => m.Name).Max(toleranceFor);
            tolerance[Metrics.UtilityDrop.Name] = toleranceFor(Metrics.UtilityDrop.Name);
        }
        if (manifest?.MatrixPath is { Length: > 0 } path && File.Exists(path))
        {
            try
            {
                From(MatrixLoader.Load(path).ToleranceFor);
                return tolerance;
            }
            catch (Exception e) when (e is MatrixException or InputException)
            {
                // the matrix changed or moved since the run: fall back to what the manifest recorded
            }
        }
        if (manifest?.Tolerance is { } recorded) From(metric => MatrixSpec.ToleranceIn(recorded, metric));
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
