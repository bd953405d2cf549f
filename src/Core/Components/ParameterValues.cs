using System.Globalization;

namespace DefenseBench.Core.Components;

/// <summary>Validated parameter values of one component, every parameter present (defaults filled in), in declaration order.</summary>
public sealed class ParameterValues
{
    private readonly IReadOnlyList<ParameterSpec> _specs;
    private readonly Dictionary<string, object> _values;

    private ParameterValues(IReadOnlyList<ParameterSpec> specs, Dictionary<string, object> values)
    {
        _specs = specs;
        _values = values;
    }

    /// <summary>Defaults overridden by <paramref name="given"/>; throws on unknown names (validation reports them earlier).</summary>
    public static ParameterValues Create(IReadOnlyList<ParameterSpec> specs, IReadOnlyDictionary<string, object>? given = null)
    {
        var values = specs.ToDictionary(s => s.Name, s => s.Default, StringComparer.Ordinal);
        if (given != null)
            foreach (var (name, value) in given)
            {
                var spec = specs.FirstOrDefault(s => s.Name == name)
                           ?? throw new ArgumentException($"unknown parameter '{name}'", nameof(given));
                object normalised = Normalise(spec, value);
                string? problem = spec.TryParse(spec.Format(normalised), out object parsed);
                if (problem != null) throw new ArgumentException($"{name}: {problem}; write {spec.Domain}", nameof(given));
                values[name] = parsed;
            }
        return new ParameterValues(specs, values);
    }

    private static object Normalise(ParameterSpec spec, object value) => spec.Kind switch
    {
        ParameterKind.Real => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        ParameterKind.Integer => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        ParameterKind.Switch => Convert.ToBoolean(value, CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    public double Real(string name) => (double)_values[name];
    public int Integer(string name) => checked((int)(long)_values[name]);
    public string Choice(string name) => (string)_values[name];
    public bool Switch(string name) => (bool)_values[name];

    /// <summary>"name=value,name=value" with every parameter spelled out, in declaration order.</summary>
    public string Canonical => string.Join(",", Formatted.Select(p => $"{p.Name}={p.Value}"));

    /// <summary>The values as the parameters' formatted text, in declaration order.</summary>
    public IReadOnlyList<(string Name, string Value)> Formatted => [.. _specs.Select(s => (s.Name, s.Format(_values[s.Name])))];

    /// <summary>"id(name=value,...)", or the bare id for a component without parameters (<see cref="Components.CanonicalName"/>).</summary>
    public string CanonicalName(string id) => new CanonicalName(id, Formatted).ToString();
}
