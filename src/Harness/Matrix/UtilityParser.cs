using DefenseBench.Core.Components;
using DefenseBench.Defenses.Privacy;
using DefenseBench.Harness.Utility;
using YamlDotNet.RepresentationModel;

namespace DefenseBench.Harness.Matrix;

/// <summary>
/// Reads a block's `utility` key (on | off | a map of <see cref="UtilitySettings.Parameters"/> and
/// partition: iid | dirichlet(α) | {dirichlet: α}) and its `delta` key (the δ at which ε is reported).
/// </summary>
internal sealed class UtilityParser(ErrorSink errors)
{
    private const string Example = "utility: {clients: 10, rounds: 20, local_steps: 5, lr: 0.1, batch_size: 32, partition: iid}";

    /// <summary>The settings, or null when utility training is off (the default).</summary>
    public UtilitySettings? Utility(YamlNode? node)
    {
        if (node == null) return null;
        if (node is YamlScalarNode)
        {
            switch ((node.Scalar() ?? "").ToLowerInvariant())
            {
                case "on" or "true" or "yes": return UtilitySettings.Default;
                case "off" or "false" or "no": return null;
            }
            errors.Add(node, $"utility '{node.Scalar()}' is neither on, off nor a map of settings", $"write utility: on, or {Example}");
            return null;
        }
        if (node is not YamlMappingNode map)
        {
            errors.Add(node, "utility must be on, off or a map of settings", $"write {Example}");
            return null;
        }
        int before = errors.Errors.Count;
        var given = new Dictionary<string, object>(StringComparer.Ordinal);
        double? alpha = null;
        foreach (var (name, keyNode, value) in map.Entries())
        {
            if (name == "partition")
            {
                alpha = Partition(value);
                continue;
            }
            var spec = UtilitySettings.Parameters.FirstOrDefault(p => p.Name == name);
            if (spec == null)
            {
                string? near = Text.Closest(name, UtilitySettings.Parameters.Select(p => p.Name).Append("partition"));
                errors.Add(keyNode, $"utility has no setting '{name}'",
                    (near != null ? $"did you mean '{near}'? " : "") + $"its settings are {string.Join(", ", UtilitySettings.Parameters.Select(p => p.Name))}, partition");
                continue;
            }
            if (value.Scalar() is not { } text)
            {
                errors.Add(value, $"utility {name} takes one value (utility settings are not swept)", $"write {spec.Domain}");
                continue;
            }
            string? problem = spec.TryParse(text, out object parsed);
            if (problem != null) errors.Add(value, $"utility {name}: {problem}", $"write {spec.Domain}");
            else given[name] = parsed;
        }
        if (errors.Errors.Count > before) return null;
        var settings = UtilitySettings.From(ParameterValues.Create(UtilitySettings.Parameters, given), alpha);
        if (settings.ClientsPerRound > settings.Clients)
            errors.Add(node, $"utility per_round {settings.ClientsPerRound} exceeds its {settings.Clients} clients", "write a per_round from 1 to clients, or 0 for all");
        if (settings.TrainImages != 0 && settings.TrainImages < settings.Clients)
            errors.Add(node, $"utility train_images {settings.TrainImages} cannot give each of {settings.Clients} clients an image", "raise train_images (0: the whole train split)");
        return settings;
    }

    /// <summary>iid → null; dirichlet(α), "dirichlet: α" or {dirichlet: α} → α.</summary>
    private double? Partition(YamlNode node)
    {
        const string fix = "write partition: iid, or partition: {dirichlet: 0.5} (smaller α, more label skew)";
        string? text = node.Scalar();
        YamlNode? alphaNode = null;
        if (text == "iid") return null;
        if (text != null && text.StartsWith("dirichlet(", StringComparison.Ordinal) && text.EndsWith(')'))
            text = text["dirichlet(".Length..^1];
        else if (node is YamlMappingNode { Children.Count: 1 } map && map.Entries().First() is ("dirichlet", _, var value))
            (alphaNode, text) = (value, value.Scalar());
        else
            text = null;
        if (text != null && ParameterSpec.TryParseReal(text, out double alpha) && alpha > 0 && double.IsFinite(alpha)) return alpha;
        errors.Add(alphaNode ?? node, $"partition '{node.Scalar() ?? "a map"}' is not iid or dirichlet with a positive α", fix);
        return null;
    }

    /// <summary>δ in (0, 1), default 10⁻⁵.</summary>
    public double Delta(YamlNode? node)
    {
        if (node == null) return RdpAccountant.DefaultDelta;
        if (ParameterSpec.TryParseReal(node.Scalar() ?? "", out double delta) && delta is > 0 and < 1) return delta;
        errors.Add(node, $"delta '{node.Scalar()}' is not a number in (0, 1)", "write the δ at which ε is reported, e.g. delta: 1e-5");
        return RdpAccountant.DefaultDelta;
    }
}
