using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Harness.Results;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DefenseBench.Harness.Matrix;

/// <summary>
/// Reads a matrix file, validates all of it (every error, with its line, before anything expensive runs) and expands
/// its blocks into cells. Top-level keys are defaults for every block; a list-valued key is a sweep.
/// </summary>
public static partial class MatrixLoader
{
    private static readonly string[] TopKeys = ["name", "description", "seeds", "tolerance", "success_psnr", "blocks", "attacks", "defenses", "utility", "delta", .. ScenarioParser.Keys];
    private static readonly string[] BlockKeys = ["name", "attacks", "defenses", "utility", "delta", .. ScenarioParser.Keys];
    private static readonly string[] Required = ["dataset", "model", "batch_size", "attacks"];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial Regex NamePattern();

    public static MatrixSpec Load(string path)
    {
        if (Directory.Exists(path))
            throw new InputException($"matrix file '{path}' is a folder, not a file", "give the path of a YAML matrix, e.g. matrices/quick.yaml");
        if (!File.Exists(path))
            throw new InputException($"matrix file '{path}' does not exist", "give the path of a YAML matrix, e.g. matrices/quick.yaml");
        byte[] bytes = File.ReadAllBytes(path);
        return Parse(new StreamReader(new MemoryStream(bytes)).ReadToEnd(), path, Sha256(bytes));
    }

    /// <summary>The matrix hash a manifest records: SHA-256 of the file's bytes, lower-case hex.</summary>
    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static MatrixSpec Parse(string text, string path, string? sha256 = null)
    {
        var errors = new ErrorSink(path);
        var yaml = new YamlStream();
        var parser = new LineTrackingParser(new Parser(new StringReader(text)));
        try
        {
            yaml.Load(parser);
        }
        catch (YamlException e)
        {
            throw new MatrixException([new InputException($"not valid YAML: {e.InnerException?.Message ?? e.Message}",
                "fix the YAML syntax (indentation, colons, brackets) at this line", path, (int)e.Start.Line)]);
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this (not a YamlException) for some unclosed flow collections, e.g. "[a".
            throw new MatrixException([new InputException("not valid YAML: a bracket, brace or quote opened here is not closed",
                "fix the YAML syntax (indentation, colons, brackets) at this line", path, parser.LastLine)]);
        }
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new MatrixException([new InputException("the matrix must be a YAML map", "start with name: ... and blocks: ...", path, 1)]);

        var top = Keys(root, TopKeys, errors, "matrix");
        string name = ReadName(root, top, errors);
        var seeds = ReadSeeds(top, errors);
        var tolerance = ReadTolerance(top, errors);
        double successPsnr = ReadSuccessPsnr(top, errors);
        var cells = new List<Cell>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (!top.TryGetValue("blocks", out var blocksNode))
        {
            errors.Add(root, "the matrix has no 'blocks'", "add blocks: with at least one block (- name: ..., dataset: ..., attacks: [...])");
        }
        else if (blocksNode is not YamlSequenceNode { Children.Count: > 0 } blocks)
        {
            errors.Add(blocksNode, "'blocks' must be a non-empty list", "write blocks: followed by items starting with '- name: ...'");
        }
        else
        {
            var blockNames = new HashSet<string>(StringComparer.Ordinal);
            var programs = new ExecPrograms();
            for (int b = 0; b < blocks.Children.Count; b++)
            {
                if (blocks.Children[b] is not YamlMappingNode blockNode)
                {
                    errors.Add(blocks.Children[b], "a block must be a map", "write - name: ..., dataset: ..., model: ..., attacks: [...]");
                    continue;
                }
                var own = Keys(blockNode, BlockKeys, errors, "block");
                string blockName = own.TryGetValue("name", out var n) ? n.Scalar() ?? "" : $"block-{b + 1}";
                if (!NamePattern().IsMatch(blockName))
                    errors.Add(n ?? blockNode, $"block name '{blockName}' is not a plain name", "use letters, digits, '-', '_' and '.'");
                else if (!blockNames.Add(blockName))
                    errors.Add(n ?? blockNode, $"block name '{blockName}' is used twice", "give each block its own name");
                var merged = new Dictionary<string, YamlNode>(top.Where(kv => BlockKeys.Contains(kv.Key) && kv.Key != "name"), StringComparer.Ordinal);
                foreach (var (key, value) in own) merged[key] = value;
                foreach (var key in Required.Where(k => !merged.ContainsKey(k)))
                    errors.Add(blockNode, $"block '{blockName}' has no '{key}' (neither does the top level)", $"add {key}: {Example(key)}");
                if (Required.Any(k => !merged.ContainsKey(k))) continue;
                foreach (var cell in ExpandBlock(blockName, merged, errors, programs))
                    if (seen.Add(cell.Id)) cells.Add(cell);
            }
        }
        // A top-level default is checked in every block that inherits it: report each problem once, in file order.
        if (errors.Any) throw new MatrixException(errors.Errors.DistinctBy(e => (e.Line, e.Message)).OrderBy(e => e.Line).ToArray());
        return new MatrixSpec(name, path, sha256 ?? Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text))), seeds, tolerance, cells)
        {
            SuccessPsnr = successPsnr,
        };
    }

    private static string Example(string key) => key switch
    {
        "dataset" => "synthetic-mnist",
        "model" => "dlg-lenet",
        "batch_size" => "[1, 64]",
        _ => "[llg, llg-plus]",
    };

    private static Dictionary<string, YamlNode> Keys(YamlMappingNode map, string[] known, ErrorSink errors, string where)
    {
        var result = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (key, keyNode, value) in map.Entries())
        {
            if (!known.Contains(key))
            {
                string? near = Text.Closest(key, known);
                errors.Add(keyNode, $"unknown {where} key '{key}'", (near != null ? $"did you mean '{near}'? " : "") + $"known keys: {string.Join(", ", known)}");
                continue;
            }
            if (!result.TryAdd(key, value)) errors.Add(keyNode, $"key '{key}' appears twice", "keep one of them");
        }
        return result;
    }

    private static string ReadName(YamlMappingNode root, Dictionary<string, YamlNode> top, ErrorSink errors)
    {
        if (!top.TryGetValue("name", out var node))
        {
            errors.Add(root, "the matrix has no 'name'", "add name: my-matrix (it names the baseline results/baselines/<name>.csv)");
            return "";
        }
        string name = node.Scalar() ?? "";
        if (!NamePattern().IsMatch(name))
            errors.Add(node, $"matrix name '{name}' is not a plain name", "use letters, digits, '-', '_' and '.' (it becomes a file name)");
        return name;
    }

    /// <summary>The most seeds a matrix (or `--seeds`) may ask for.</summary>
    public const int MaxSeeds = 100_000;

    public const string SeedsFix = "write a count from 1 to 100000, or a list of seeds such as [0, 1, 2]";

    /// <summary>The error of a seed count given on the command line, checked as the matrix key is; null when it is fine.</summary>
    public static string? SeedCountProblem(int count) => count is >= 1 and <= MaxSeeds ? null : $"--seeds {count} is out of range; {SeedsFix.Replace("write", "give", StringComparison.Ordinal)}";

    private static IReadOnlyList<int> ReadSeeds(Dictionary<string, YamlNode> top, ErrorSink errors)
    {
        if (!top.TryGetValue("seeds", out var node)) return [0];
        if (node is YamlScalarNode && int.TryParse(node.Scalar(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int count))
        {
            if (count is >= 1 and <= MaxSeeds) return Enumerable.Range(0, count).ToArray();
            errors.Add(node, $"seeds {count} is out of range", SeedsFix);
            return [0];
        }
        var seeds = new List<int>();
        if (node is YamlSequenceNode { Children.Count: 0 }) errors.Add(node, "seeds is an empty list, so nothing would run", "write seeds: 3 or seeds: [0, 1, 2]");
        foreach (var item in node.Items())
        {
            if (int.TryParse(item.Scalar(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) && s >= 0) seeds.Add(s);
            else errors.Add(item, $"seed '{item.Scalar()}' is not a non-negative integer", "write seeds: 3 or seeds: [0, 1, 2]");
        }
        if (seeds.Distinct().Count() != seeds.Count) errors.Add(node, "a seed appears twice", "list each seed once");
        return seeds;
    }

    private static Dictionary<string, double> ReadTolerance(Dictionary<string, YamlNode> top, ErrorSink errors)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        if (!top.TryGetValue("tolerance", out var node)) return result;
        if (node is not YamlMappingNode map)
        {
            errors.Add(node, "tolerance must be a map of metric to absolute tolerance", "write tolerance: {asr: 0.05, lnacc: 0.05}");
            return result;
        }
        foreach (var (metric, keyNode, value) in map.Entries())
        {
            if (metric != "default" && !CellRow.MetricColumns.Contains(metric))
            {
                string? near = Text.Closest(metric, CellRow.MetricColumns);
                errors.Add(keyNode, $"unknown metric '{metric}' in tolerance",
                    (near != null ? $"did you mean '{near}'? " : "") + $"write one of {string.Join(", ", CellRow.MetricColumns)} or default");
                continue;
            }
            if (ParameterSpec.TryParseReal(value.Scalar() ?? "", out double t) && t >= 0 && !double.IsInfinity(t)) result[metric] = t;
            else errors.Add(value, $"tolerance for {metric} '{value.Scalar()}' is not a non-negative number", "write an absolute tolerance such as 0.05");
        }
        return result;
    }

    /// <summary>success_psnr: one threshold for the whole matrix, so every image attack's success column means the same.</summary>
    private static double ReadSuccessPsnr(Dictionary<string, YamlNode> top, ErrorSink errors)
    {
        if (!top.TryGetValue("success_psnr", out var node)) return ScoringOptions.DefaultSuccessPsnr;
        if (ParameterSpec.TryParseReal(node.Scalar() ?? "", out double psnr) && double.IsFinite(psnr) && psnr > 0) return psnr;
        errors.Add(node, $"success_psnr '{node.Scalar()}' is not a positive number of decibels", "write e.g. success_psnr: 20");
        return ScoringOptions.DefaultSuccessPsnr;
    }

    private static IEnumerable<Cell> ExpandBlock(string block, Dictionary<string, YamlNode> keys, ErrorSink errors, ExecPrograms programs)
    {
        var scenarios = new ScenarioParser(errors);
        var components = new ComponentParser(errors, programs);
        YamlNode? Get(string key) => keys.TryGetValue(key, out var v) ? v : null;
        int before = errors.Errors.Count;
        var datasets = scenarios.Datasets(keys["dataset"]);
        var classCounts = scenarios.NumClasses(Get("num_classes"));
        var models = scenarios.Models(keys["model"]);
        var batchSizes = scenarios.BatchSizes(keys["batch_size"]);
        var labels = scenarios.Labels(Get("labels"));
        var clients = scenarios.Clients(Get("clients"));
        var protocols = scenarios.Protocols(Get("protocol"));
        var stages = scenarios.Stages(Get("stage"));
        var modes = scenarios.Modes(Get("mode"));
        var rounds = scenarios.Rounds(Get("round"));
        var attacks = components.Attacks(keys["attacks"]);
        var defenses = Get("defenses") is { } d ? components.Defenses(d) : [DefenseChoice.None];
        var training = new UtilityParser(errors);
        var utility = training.Utility(Get("utility"));
        double delta = training.Delta(Get("delta"));
        // An empty list would silently leave the block without cells (attacks reports its own).
        foreach (var (key, node) in keys)
            if (key is not "attacks" and not "utility" && node is YamlSequenceNode { Children.Count: 0 })
                errors.Add(node, $"'{key}' is an empty list, so block '{block}' would have no cells", $"write at least one value, or remove {key} to use its default");
        if (errors.Errors.Count > before) yield break;

        foreach (string dataset in datasets)
        {
            foreach (int? classes in classCounts)
            {
                var numClasses = ResolveClasses(dataset, classes, Get("num_classes") ?? keys["dataset"], errors);
                if (numClasses == null) continue;
                foreach (string model in models)
                foreach (int batch in batchSizes)
                foreach (var label in labels)
                foreach (int k in clients)
                foreach (var protocol in protocols)
                foreach (var stage in stages)
                foreach (var mode in modes)
                {
                    var scenario = new ScenarioSpec(dataset, numClasses.Value, model, batch, label, k, protocol, stage, mode);
                    foreach (int round in rounds)
                        foreach (var defense in defenses)
                            foreach (var attack in attacks)
                                yield return new Cell(block, scenario, attack, defense, utility, delta, round);
                }
            }
        }
    }

    private static int? ResolveClasses(string dataset, int? classes, YamlNode node, ErrorSink errors)
    {
        var problem = DatasetCatalog.Check(dataset, classes);
        if (problem != null)
        {
            errors.Add(node, problem.Message, problem.Fix ?? "");
            return null;
        }
        try
        {
            return DatasetCatalog.Open(dataset, classes).NumClasses;
        }
        catch (InputException e)
        {
            errors.Add(node, e.Message, e.Fix ?? "check the dataset path");
            return null;
        }
    }
}

/// <summary>Remembers the line of the last event read, for errors that YamlDotNet throws without a position.</summary>
internal sealed class LineTrackingParser(IParser inner) : IParser
{
    public int LastLine { get; private set; } = 1;

    public YamlDotNet.Core.Events.ParsingEvent? Current => inner.Current;

    public bool MoveNext()
    {
        bool more = inner.MoveNext();
        if (inner.Current != null) LastLine = (int)inner.Current.Start.Line;
        return more;
    }
}
