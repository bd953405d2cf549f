using DefenseBench.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Defenses;
using DefenseBench.Defenses.External;
using YamlDotNet.RepresentationModel;

namespace DefenseBench.Harness.Matrix;

/// <summary>Parses the attacks and defenses lists of a block; a list inside parameters is a sweep.</summary>
internal sealed class ComponentParser(ErrorSink errors, ExecPrograms programs)
{
    public List<AttackChoice> Attacks(YamlNode node)
    {
        var result = new List<AttackChoice>();
        int before = errors.Errors.Count;
        foreach (var item in node.Items())
        {
            if (item is YamlMappingNode { Children.Count: 1 } map && map.Entries().First() is (ExecSettings.Id, _, var settings))
            {
                result.AddRange(new ExecParser(errors, programs).ParseAttack(settings).Select(e => AttackChoice.External(e.Settings, e.Needs)));
                continue;
            }
            foreach (var (id, values) in Component(item, AttackCatalog.All, "attack", AttackCatalog.All.Ids.First()))
                result.Add(new AttackChoice(id, values));
        }
        if (result.Count == 0 && errors.Errors.Count == before)
            errors.Add(node, "the attacks list is empty", $"write at least one of {string.Join(", ", AttackCatalog.All.Ids)}, or exec");
        return result;
    }

    public List<DefenseChoice> Defenses(YamlNode node)
    {
        var result = new List<DefenseChoice>();
        foreach (var item in node.Items())
        {
            if (item is YamlMappingNode { Children.Count: 1 } map && map.Entries().First() is ("pipeline", _, var stagesNode))
            {
                var stages = stagesNode.Items().Select(s => (IReadOnlyList<DefenseStage>)Stage(s)).ToArray();
                if (stages.Length == 0)
                    errors.Add(stagesNode, "the pipeline has no stages", "write pipeline: [{topk: {keep: 0.1}}, ...] or none");
                foreach (var combination in YamlNodes.Product(stages))
                    result.Add(Checked(new DefenseChoice(combination), item));
            }
            else if (item.Scalar() == "none")
            {
                result.Add(DefenseChoice.None);
            }
            else
            {
                foreach (var stage in Stage(item))
                    result.Add(Checked(new DefenseChoice([stage]), item));
            }
        }
        return result;
    }

    /// <summary>One stage, expanded over its sweeps: {exec: {...}} runs another program, anything else names a catalog defence.</summary>
    private List<DefenseStage> Stage(YamlNode node) =>
        node is YamlMappingNode { Children.Count: 1 } map && map.Entries().First() is (ExecSettings.Id, _, var settings)
            ? [.. new ExecParser(errors, programs).Parse(settings).Select(s => (DefenseStage)new ExecStage(s))]
            : [.. Component(node, DefenseCatalog.All, "defence", DefenseCatalog.All.Ids.First()).Select(c => (DefenseStage)new CatalogStage(c.Id, c.Values))];

    private DefenseChoice Checked(DefenseChoice choice, YamlNode node)
    {
        try
        {
            _ = choice.Create();
        }
        catch (ArgumentException e)
        {
            errors.Add(node, e.Message, "reorder the pipeline's stages");
        }
        catch (InputException e)
        {
            // A combination of parameters the component refuses (each value was in range on its own).
            errors.Add(node, e.Message, e.Fix ?? "change the parameters");
        }
        return choice;
    }

    /// <summary>"id", or "{id: {param: value-or-list, ...}}" (also "{id: null}"), expanded over parameter sweeps.</summary>
    private List<(string Id, ParameterValues Values)> Component<T>(YamlNode node, Catalog<T> catalog, string what, string example)
    {
        string? id;
        YamlNode? parameters = null;
        switch (node)
        {
            case YamlScalarNode scalar:
                id = scalar.Value;
                break;
            case YamlMappingNode { Children.Count: 1 } map:
                (id, _, parameters) = map.Entries().First();
                break;
            default:
                errors.Add(node, $"a {what} must be a name or a map with one name",
                    $"write {example} or {{{example}: {{...}}}}");
                return [];
        }
        if (id == null || !catalog.TryGet(id, out var info))
        {
            string? near = id == null ? null : catalog.Closest(id);
            errors.Add(node, $"unknown {what} '{id}'",
                (near != null ? $"did you mean '{near}'? " : "") + $"write one of {string.Join(", ", catalog.Ids.Append(what == "defence" ? "none, pipeline, exec" : "exec"))}");
            return [];
        }
        var alternatives = new List<IReadOnlyList<(string Name, object Value)>>();
        if (parameters != null && !parameters.IsNull())
        {
            if (parameters is not YamlMappingNode map)
            {
                errors.Add(parameters, $"the parameters of {id} must be a map", $"write {{{id}: {{{string.Join(", ", info.Parameters.Select(p => $"{p.Name}: {p.Format(p.Default)}"))}}}}}");
                return [];
            }
            foreach (var (name, keyNode, valueNode) in map.Entries())
            {
                var spec = info.Parameters.FirstOrDefault(p => p.Name == name);
                if (spec == null)
                {
                    string? near = Text.Closest(name, info.Parameters.Select(p => p.Name));
                    errors.Add(keyNode, $"{id} has no parameter '{name}'",
                        info.Parameters.Count == 0 ? $"{id} takes no parameters; remove it"
                            : (near != null ? $"did you mean '{near}'? " : "") + $"its parameters are {string.Join(", ", info.Parameters.Select(p => p.Name))}");
                    continue;
                }
                var values = new List<(string, object)>();
                if (valueNode is YamlSequenceNode { Children.Count: 0 })
                    errors.Add(valueNode, $"{id} {name}: the list of values is empty", $"write {spec.Domain}, or a list of them");
                foreach (var v in valueNode.Items())
                {
                    string? text = v.Scalar();
                    if (text == null)
                    {
                        errors.Add(v, $"{id} {name}: expected a value or a list of values", $"write {spec.Domain}");
                        continue;
                    }
                    string? problem = spec.TryParse(text, out object parsed);
                    if (problem != null) errors.Add(v, $"{id} {name}: {problem}", $"write {spec.Domain}");
                    else values.Add((name, parsed));
                }
                alternatives.Add(values);
            }
        }
        return YamlNodes.Product(alternatives)
            .Select(combo => (info.Id, ParameterValues.Create(info.Parameters, combo.ToDictionary(c => c.Name, c => c.Value))))
            .ToList();
    }
}
