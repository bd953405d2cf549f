using System.Text.Json;
using System.Text.Json.Serialization;
using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Reproduce;

/// <summary>One metric of one re-run row that moved beyond tolerance: what the folder said, what the re-run gave.</summary>
public sealed record MovedMetric(int Seed, string Metric, double? Was, double? Now, double? Tolerance);

/// <summary>A sampled cell's verdict: reproduced when every row of every seed agreed within tolerance.</summary>
public sealed record CellVerdict(string CellId, string Attack, string Defense, string Scenario, bool Reproduced, IReadOnlyList<MovedMetric> Moved);

/// <summary>
/// reproduce.json: what `reproduce` sampled (with the sample fraction and seed that chose it), the verdict of each
/// sampled cell with the metrics that moved, the harness that re-ran them and when.
/// </summary>
public sealed record ReproduceReport(
    string HarnessVersion,
    string Device,
    DateTimeOffset When,
    double Sample,
    int SampleSeed,
    int CellsInRun,
    IReadOnlyList<int> Seeds,
    IReadOnlyList<CellVerdict> Cells)
{
    public const string FileName = "reproduce.json";

    public int Sampled => Cells.Count;

    public int Reproduced => Cells.Count(c => c.Reproduced);

    /// <summary>The provenance line a leaderboard shows.</summary>
    public string Summary => $"reproduced {Reproduced} of {Sampled} sampled cells (harness {HarnessVersion}, {When.ToUniversalTime():u})";

    /// <summary>
    /// The leaderboard's provenance line for <paramref name="folder"/>: the summary of its reproduce.json, a line saying
    /// the file could not be read when it is malformed (a board is still published), null when there is none.
    /// </summary>
    public static string? Line(string folder)
    {
        try
        {
            return TryLoad(folder)?.Summary;
        }
        catch (InputException e)
        {
            return $"reproduce: {FileName} could not be read ({e.Message})";
        }
    }

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Writes reproduce.json into <paramref name="folder"/>. A link of that name is removed first, not followed, so a
    /// crafted results folder cannot make `reproduce` write elsewhere.
    /// </summary>
    public void Save(string folder)
    {
        string path = Path.Combine(folder, FileName);
        try
        {
            if (Directory.Exists(path)) throw new IOException("it is a folder");
            if (new FileInfo(path).LinkTarget != null) File.Delete(path);
            File.WriteAllText(path, JsonSerializer.Serialize(this, Options) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path} cannot be written ({e.Message})", "give a results folder that can be written, with no folder named reproduce.json");
        }
    }

    /// <summary>The folder's report; null when it has none; an input error naming the file when it is not a report.</summary>
    public static ReproduceReport? TryLoad(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        const string Fix = "delete it and run `reproduce` again";
        try
        {
            var report = JsonSerializer.Deserialize<ReproduceReport>(File.ReadAllText(path), Options);
            if (report?.Cells == null || report.HarnessVersion == null || report.Cells.Any(c => c?.CellId == null || c.Moved == null))
                throw new InputException("is not a reproduce report (fields missing)", Fix, path);
            return report;
        }
        catch (JsonException e)
        {
            throw new InputException($"is not a reproduce report ({e.Message})", Fix, path, (int?)e.LineNumber + 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new InputException($"cannot be read ({e.Message})", Fix, path);
        }
    }
}
