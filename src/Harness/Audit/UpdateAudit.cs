using System.Globalization;
using System.Text.Json;
using DefenseBench.Attacks;
using DefenseBench.Attacks.Common;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using TorchSharp;

namespace DefenseBench.Harness.Audit;

/// <summary>What `attack NAME --update FILE` was asked.</summary>
public sealed record AuditRequest(
    string Attack, string UpdatePath, IReadOnlyList<string> Parameters, LastLayerFile.Overrides Overrides, LastLayerNames Names,
    IReadOnlyList<int>? KnownClasses, LastLayerFile.OverrideOptions Options);

/// <summary>
/// Runs one last-layer label attack on an update captured from someone's own FL system (a safetensors file) and
/// describes the result as one JSON object: the recovered counts per class, the present classes and what was read.
/// </summary>
public static class UpdateAudit
{
    public static string Run(AuditRequest request)
    {
        var attack = Create(request.Attack, request.Parameters, out string parameters);
        if (attack.Needs.HasFlag(AttackNeeds.KnownClasses) && request.KnownClasses == null)
            throw new InputException($"{request.Attack} solves only for the classes known to be present", "pass them with --classes, e.g. --classes 3,17,42");
        using var scope = torch.NewDisposeScope();
        var layer = LastLayerFile.Read(request.UpdatePath, attack, request.Overrides, request.Options, request.Names) with { KnownClasses = request.KnownClasses };
        if (request.KnownClasses?.FirstOrDefault(c => c < 0 || c >= layer.NumClasses, -1) is int bad and >= 0)
            throw new InputException($"--classes names class {bad}, but the update has classes 0..{layer.NumClasses - 1}", "list class indices of the update");
        int[] counts = attack.Recover(layer);
        return Describe(request, attack, parameters, layer, counts);
    }

    /// <summary>The attack by id with key=value parameters; only attacks that read the last layer alone can audit a file.</summary>
    public static LastLayerAttack Create(string id, IReadOnlyList<string> parameters, out string canonical)
    {
        if (!AttackCatalog.All.TryGet(id, out var info))
        {
            string? near = AttackCatalog.All.Closest(id);
            throw new InputException($"unknown attack '{id}'", (near != null ? $"did you mean '{near}'? " : "") + $"write one of {string.Join(", ", Auditable())}");
        }
        var given = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (string pair in parameters)
        {
            int eq = pair.IndexOf('=');
            string name = eq > 0 ? pair[..eq] : pair;
            var spec = info.Parameters.FirstOrDefault(p => p.Name == name)
                ?? throw new InputException($"{id} has no parameter '{name}'",
                    info.Parameters.Count == 0 ? $"{id} takes no parameters" : $"write --param NAME=VALUE with NAME one of {string.Join(", ", info.Parameters.Select(p => p.Name))}");
            object value = spec.Default;
            string? problem = eq > 0 ? spec.TryParse(pair[(eq + 1)..], out value) : "has no value";
            if (problem != null) throw new InputException($"--param {pair}: {problem}", $"write {name}=<{spec.Domain}>");
            given[name] = value;
        }
        var values = ParameterValues.Create(info.Parameters, given);
        canonical = values.Canonical;
        return info.Create(values) as LastLayerAttack
            ?? throw new InputException($"{id} needs the whole model and data, not only the last layer",
                $"audit a captured update with one of {string.Join(", ", Auditable())}");
    }

    /// <summary>The attacks that can audit a file: those that read the last layer alone.</summary>
    public static IEnumerable<string> Auditable() => AttackCatalog.All.All.Where(i => i.CreateDefault() is LastLayerAttack).Select(i => i.Id);

    private static string Describe(AuditRequest request, LastLayerAttack attack, string parameters, LastLayer layer, int[] counts)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            json.WriteStartObject();
            json.WriteString("attack", attack.Id);
            json.WriteString("attack_params", parameters);
            json.WriteString("update", request.UpdatePath);
            json.WriteNumber("num_classes", layer.NumClasses);
            json.WriteNumber("batch_size", layer.BatchSize);
            json.WriteNumber("steps", layer.Steps);
            json.WriteNumber("labels", layer.Labels);
            json.WriteString("recovers", attack.ExistenceOnly ? "existence" : "counts");
            json.WriteStartArray("counts");
            foreach (int n in counts) json.WriteNumberValue(n);
            json.WriteEndArray();
            json.WriteStartArray("present");
            for (int c = 0; c < counts.Length; c++)
                if (counts[c] > 0) json.WriteNumberValue(c);
            json.WriteEndArray();
            json.WriteNumber("recovered_labels", counts.Sum());
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>"3,17,42" as class indices.</summary>
    public static IReadOnlyList<int> ParseClasses(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(t => int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out int c) ? c
            : throw new InputException($"--classes: '{t}' is not a class index", "write comma-separated class indices, e.g. --classes 3,17,42"))
        .ToArray();
}
