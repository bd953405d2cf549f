using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DefenseBench.Harness.Results;

/// <summary>Provenance of a run: what ran, from which code, on what, when. Written at the start and updated at the end.</summary>
public sealed record Manifest
{
    public const string FileName = "manifest.json";

    public string Harness { get; init; } = "defensebench";
    public string HarnessVersion { get; init; } = "";
    public string? GitCommit { get; init; }
    public string Matrix { get; init; } = "";
    public string MatrixPath { get; init; } = "";
    public string MatrixSha256 { get; init; } = "";

    /// <summary>
    /// SHA-256 of the matrix with its defence lists set aside (Suite in src/Harness/Matrix): folders with the same suite hash and
    /// harness version measured the same undefended cells and can share a board. Null in manifests of older harnesses.
    /// </summary>
    public string? SuiteSha256 { get; init; }

    /// <summary>The matrix's tolerance map as the run read it, so a board of several folders compares their shared rows without the matrix file.</summary>
    public IReadOnlyDictionary<string, double>? Tolerance { get; init; }
    public IReadOnlyList<int> Seeds { get; init; } = [];
    public int Cells { get; init; }
    public string Device { get; init; } = "";
    /// <summary>Whether the run solved each reconstruction cell's seeds together (`run --batch-seeds`, on by default on CUDA).</summary>
    public bool BatchSeeds { get; init; }

    public string TorchBackend { get; init; } = "";
    public IReadOnlyDictionary<string, string> Packages { get; init; } = new Dictionary<string, string>();
    public HostInfo Host { get; init; } = HostInfo.Current();
    public DateTimeOffset Started { get; init; }
    public DateTimeOffset? Finished { get; init; }
    public IReadOnlyList<DateTimeOffset> Resumed { get; init; } = [];
    public int Rows { get; init; }
    public int FailedRows { get; init; }
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>
    /// The external programs the matrix's exec defences ran: each name with its command and the SHA-256 of every file
    /// the command names, so a leaderboard can show which code ran. Empty when every defence is built in.
    /// </summary>
    public IReadOnlyList<ExecRecord> ExecDefenses { get; init; } = [];

    /// <summary>The external programs the matrix's exec attacks ran, recorded as <see cref="ExecDefenses"/> are. Empty when every attack is built in.</summary>
    public IReadOnlyList<ExecRecord> ExecAttacks { get; init; } = [];

    /// <summary>Which shard of the matrix this folder holds (`run --shard i/n`); null for a whole run.</summary>
    public ShardInfo? Shard { get; init; }

    /// <summary>The shard folders a `merge` joined into this one; null for a run.</summary>
    public IReadOnlyList<MergedShard>? MergedFrom { get; init; }

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public void Save(string folder) => File.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, Options) + "\n");

    /// <summary>The folder's manifest; null when it has none; an input error naming the line when it is not a manifest.</summary>
    public static Manifest? TryLoad(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        const string Fix = "repair or delete it (a results folder without manifest.json still loads, without provenance)";
        try
        {
            return JsonSerializer.Deserialize<Manifest>(File.ReadAllText(path), Options)
                   ?? throw new Core.Components.InputException("is null, not a manifest object", Fix, path);
        }
        catch (JsonException e)
        {
            throw new Core.Components.InputException($"is not a manifest ({e.Message})", Fix, path, (int?)e.LineNumber + 1);
        }
    }

    /// <summary>The harness's version and the commit it was built from (embedded at build time when git was there).</summary>
    public static (string Version, string? Commit) BuildInfo()
    {
        var assembly = typeof(Manifest).Assembly;
        string version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0) version = version[..plus];
        string? commit = assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "GitCommit")?.Value;
        return (version, string.IsNullOrWhiteSpace(commit) ? null : commit.Trim());
    }

    /// <summary>Versions of the packages whose behaviour shapes the numbers.</summary>
    public static Dictionary<string, string> PackageVersions()
    {
        static string Of(Type t) =>
            t.Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
            ?? t.Assembly.GetName().Version?.ToString() ?? "?";
        return new Dictionary<string, string>
        {
            ["TorchSharp"] = Of(typeof(TorchSharp.torch)),
            ["libtorch"] = TorchSharp.torch.__version__,
            ["CsvHelper"] = Of(typeof(CsvHelper.CsvWriter)),
            ["ScottPlot"] = Of(typeof(ScottPlot.Plot)),
            ["YamlDotNet"] = Of(typeof(YamlDotNet.RepresentationModel.YamlStream)),
            [".NET"] = RuntimeInformation.FrameworkDescription,
        };
    }

    public static string Backend() => Core.Native.LibTorch.Backend;
}

/// <summary>An external defence or attack as the manifest records it: its name, command, and each named file's SHA-256 by the word that names it.</summary>
public sealed record ExecRecord(string Name, string Command, IReadOnlyDictionary<string, string> Files)
{
    public static ExecRecord Of(Defenses.External.ExecSettings settings) =>
        new(settings.Name, settings.Command, Defenses.External.ExecCommand.FileHashes(settings.Command, settings.Folder));

    /// <summary>One record per distinct (name, command) among <paramref name="stages"/>, in their order.</summary>
    public static IReadOnlyList<ExecRecord> All(IEnumerable<Defenses.External.ExecSettings> stages) =>
        [.. stages.DistinctBy(s => (s.Name, s.Command, s.Folder)).Select(Of)];
}

/// <summary>Shard <see cref="Index"/> of <see cref="Count"/> and the number of the matrix's cells it holds.</summary>
public sealed record ShardInfo(int Index, int Count, int Cells);

/// <summary>One shard folder as `merge` found it: where it ran and what it held.</summary>
public sealed record MergedShard(string Folder, ShardInfo? Shard, string Device, HostInfo Host, DateTimeOffset Started, DateTimeOffset? Finished, int Rows);

/// <summary>The machine a run used.</summary>
public sealed record HostInfo(string Os, string Cpu, int Cores, string Machine)
{
    public static HostInfo Current() => new(RuntimeInformation.OSDescription, CpuModel(), Environment.ProcessorCount, RuntimeInformation.OSArchitecture.ToString());

    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal))
                        return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
            // fall through: the model name is informational
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
