using System.Globalization;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using YamlDotNet.RepresentationModel;

namespace DefenseBench.Harness.Matrix;

/// <summary>Parses the scenario keys of a block; each accepts one value or a list to sweep.</summary>
internal sealed class ScenarioParser(ErrorSink errors)
{
    public static readonly string[] Keys = ["dataset", "num_classes", "model", "batch_size", "labels", "clients", "protocol", "stage", "mode", "round"];

    public List<string> Datasets(YamlNode node) => Each(node, v =>
    {
        string text = v.Scalar() ?? "";
        var problem = DatasetCatalog.Check(text, null);
        // num_classes is checked with the dataset once both are known.
        if (problem != null && !problem.Message.StartsWith("num_classes", StringComparison.Ordinal)) return Fail<string>(v, problem.Message, problem.Fix!);
        return text;
    });

    public List<int?> NumClasses(YamlNode? node) =>
        node == null || node.IsNull() ? [null] : Each(node, v => (int?)Integer(v, "num_classes", 2, SyntheticImages.MaxClasses));

    public List<string> Models(YamlNode node) => Each(node, v =>
    {
        string text = v.Scalar() ?? "";
        if (ModelCatalog.All.TryGet(text, out _)) return text;
        string? near = ModelCatalog.All.Closest(text);
        return Fail<string>(v, $"unknown model '{text}'", (near != null ? $"did you mean '{near}'? " : "") + $"write one of {string.Join(", ", ModelCatalog.All.Ids)}");
    });

    public List<int> BatchSizes(YamlNode node) => Each(node, v => Integer(v, "batch_size", 1, 65536));

    public List<int> Clients(YamlNode? node) => node == null ? [1] : Each(node, v => Integer(v, "clients", 1, 100000));

    public List<LabelDistribution> Labels(YamlNode? node) => node == null ? [LabelDistribution.Iid] : Each(node, v =>
        LabelDistributions.TryParse(v.Scalar() ?? "", out var d) ? d : Fail<LabelDistribution>(v, $"unknown label distribution '{v.Scalar()}'", "write iid, non-iid or balanced"));

    /// <summary>The most training rounds before an attacked round that a matrix may ask for.</summary>
    public const int MaxRound = 100_000;

    /// <summary>round: R or a list; the attack reads round R + 1 of a federated training under the cell's defence (0: today's single round).</summary>
    public List<int> Rounds(YamlNode? node) => node == null ? [0] : Each(node, v => Integer(v, "round", 0, MaxRound));

    public List<ModelMode> Modes(YamlNode? node) => node == null ? [ModelMode.Train] : Each(node, v => (v.Scalar() ?? "") switch
    {
        "train" => ModelMode.Train,
        "eval" => ModelMode.Eval,
        _ => Fail<ModelMode>(v, $"unknown mode '{v.Scalar()}'", "write train or eval"),
    });

    /// <summary>"fedsgd" or {fedavg: {steps: U, lr: η, same_batch: off}}; lists inside fedavg's map sweep too.</summary>
    public List<Protocol> Protocols(YamlNode? node)
    {
        if (node == null) return [new FedSgd()];
        var result = new List<Protocol>();
        foreach (var item in node.Items())
        {
            if (item.Scalar() == "fedsgd") { result.Add(new FedSgd()); continue; }
            if (item is YamlMappingNode { Children.Count: 1 } map && map.Entries().First() is ("fedavg", _, var args))
            {
                var fields = Fields(args, "fedavg", ["steps", "lr", "same_batch"], "{fedavg: {steps: 10, lr: 0.1}}");
                var steps = fields.TryGetValue("steps", out var s) ? Each(s, v => Integer(v, "fedavg steps", 1, 100000)) : [1];
                var lrs = fields.TryGetValue("lr", out var l) ? Each(l, v => Real(v, "fedavg lr", 0, double.PositiveInfinity)) : [0.1];
                var same = fields.TryGetValue("same_batch", out var b) ? Each(b, v => Switch(v, "fedavg same_batch")) : [false];
                foreach (int u in steps) foreach (double lr in lrs) foreach (bool sb in same) result.Add(new FedAvg(u, lr, sb));
                continue;
            }
            errors.Add(item, $"unknown protocol '{item.Scalar() ?? (item is YamlMappingNode m ? string.Join(", ", m.Entries().Select(e => e.Key)) : "a list")}'", "write fedsgd or {fedavg: {steps: 10, lr: 0.1}}");
        }
        return result;
    }

    /// <summary>
    /// A step count, {steps: N, lr: η, batch_size: B} or {epochs: E, lr: η, batch_size: B}: SGD on the training split
    /// before the attack (E epochs are E·⌈n/B⌉ steps over shuffled data).
    /// </summary>
    public List<TrainingStage> Stages(YamlNode? node)
    {
        if (node == null) return [TrainingStage.Untrained];
        var result = new List<TrainingStage>();
        foreach (var item in node.Items())
        {
            if (item is YamlScalarNode)
            {
                int steps = Integer(item, "stage", 0, 10_000_000);
                result.Add(steps == 0 ? TrainingStage.Untrained : new TrainingStage(steps));
                continue;
            }
            var fields = Fields(item, "stage", ["steps", "epochs", "lr", "batch_size"], "{steps: 100, lr: 0.1, batch_size: 32} or {epochs: 10, lr: 0.1, batch_size: 128}");
            if (fields.ContainsKey("steps") && fields.ContainsKey("epochs"))
                errors.Add(item, "a stage counts either steps or epochs, not both", "write {steps: 100, ...} or {epochs: 10, ...}");
            bool epochs = fields.ContainsKey("epochs");
            var counts = fields.TryGetValue(epochs ? "epochs" : "steps", out var s)
                ? Each(s, v => Integer(v, epochs ? "stage epochs" : "stage steps", 0, epochs ? 100_000 : 10_000_000))
                : [0];
            var lrs = fields.TryGetValue("lr", out var l) ? Each(l, v => Real(v, "stage lr", 0, double.PositiveInfinity)) : [0.1];
            var batches = fields.TryGetValue("batch_size", out var b) ? Each(b, v => Integer(v, "stage batch_size", 1, 65536)) : [32];
            foreach (int n in counts) foreach (double lr in lrs) foreach (int bs in batches)
                result.Add(epochs ? TrainingStage.ForEpochs(n, lr, bs) : n == 0 ? TrainingStage.Untrained : new TrainingStage(n, lr, bs));
        }
        return result;
    }

    private Dictionary<string, YamlNode> Fields(YamlNode node, string what, string[] known, string example)
    {
        var result = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        if (node is not YamlMappingNode map)
        {
            if (!node.IsNull()) errors.Add(node, $"{what} needs a map of its settings", $"write {example}");
            return result;
        }
        foreach (var (key, keyNode, value) in map.Entries())
        {
            if (known.Contains(key)) result[key] = value;
            else errors.Add(keyNode, $"{what} has no setting '{key}'", $"write {string.Join(", ", known)}");
        }
        return result;
    }

    private List<T> Each<T>(YamlNode node, Func<YamlNode, T> parse)
    {
        var result = new List<T>();
        foreach (var item in node.Items())
        {
            try
            {
                result.Add(parse(item));
            }
            catch (Invalid)
            {
                // already reported
            }
        }
        return result;
    }

    private int Integer(YamlNode v, string what, int min, int max)
    {
        if (!int.TryParse(v.Scalar(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
            return Fail<int>(v, $"{what} '{v.Scalar()}' is not an integer", $"write an integer from {min} to {max}");
        return n < min || n > max ? Fail<int>(v, $"{what} {n} is out of range", $"write an integer from {min} to {max}") : n;
    }

    private double Real(YamlNode v, string what, double minExclusive, double max)
    {
        if (!ParameterSpec.TryParseReal(v.Scalar() ?? "", out double d))
            return Fail<double>(v, $"{what} '{v.Scalar()}' is not a number", "write a number");
        if (!double.IsFinite(d)) return Fail<double>(v, $"{what} '{v.Scalar()}' is not a finite number", $"write a finite number > {minExclusive}");
        return d <= minExclusive || d > max ? Fail<double>(v, $"{what} {d} is out of range", $"write a number > {minExclusive}") : d;
    }

    private bool Switch(YamlNode v, string what) => (v.Scalar() ?? "").ToLowerInvariant() switch
    {
        "on" or "true" or "yes" => true,
        "off" or "false" or "no" => false,
        _ => Fail<bool>(v, $"{what} '{v.Scalar()}' is not on or off", "write on or off"),
    };

    private T Fail<T>(YamlNode node, string message, string fix)
    {
        errors.Add(node, message, fix);
        throw new Invalid();
    }

    /// <summary>Unwinds one value's parse after its error was recorded.</summary>
    private sealed class Invalid : Exception;
}
