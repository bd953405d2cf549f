using System.Globalization;

namespace DefenseBench.Core.Components;

public enum ParameterKind { Real, Integer, Choice, Switch }

/// <summary>
/// One parameter of an attack or defence: its canonical name, kind, default, allowed range and help text.
/// The same spec validates matrix files, formats canonical names for the CSV and documents `list`.
/// </summary>
public sealed record ParameterSpec(string Name, ParameterKind Kind, object Default, string Help)
{
    public double Min { get; init; } = double.NegativeInfinity;
    public double Max { get; init; } = double.PositiveInfinity;
    public bool MinExclusive { get; init; }
    public bool MaxExclusive { get; init; }
    public IReadOnlyList<string> Choices { get; init; } = [];

    public static ParameterSpec Real(string name, double @default, string help, double min = double.NegativeInfinity,
        double max = double.PositiveInfinity, bool minExclusive = false, bool maxExclusive = false) =>
        new(name, ParameterKind.Real, @default, help) { Min = min, Max = max, MinExclusive = minExclusive, MaxExclusive = maxExclusive };

    public static ParameterSpec Integer(string name, long @default, string help, long min = long.MinValue, long max = long.MaxValue) =>
        new(name, ParameterKind.Integer, @default, help) { Min = min, Max = max };

    public static ParameterSpec Choice(string name, string @default, string help, params string[] choices) =>
        new(name, ParameterKind.Choice, @default, help) { Choices = choices };

    public static ParameterSpec Switch(string name, bool @default, string help) => new(name, ParameterKind.Switch, @default, help);

    /// <summary>What a user may write, for error messages and `list`.</summary>
    public string Domain => Kind switch
    {
        ParameterKind.Choice => string.Join(" | ", Choices),
        ParameterKind.Switch => "on | off",
        ParameterKind.Integer => $"an integer{RangeText}",
        _ => $"a number{RangeText}",
    };

    private string RangeText
    {
        get
        {
            bool hasMin = !double.IsNegativeInfinity(Min) && Min > long.MinValue;
            bool hasMax = !double.IsPositiveInfinity(Max) && Max < long.MaxValue;
            if (hasMin && hasMax)
                return $" in {(MinExclusive ? "(" : "[")}{FormatReal(Min)}, {FormatReal(Max)}{(MaxExclusive ? ")" : "]")}";
            if (hasMin) return MinExclusive ? $" > {FormatReal(Min)}" : $" >= {FormatReal(Min)}";
            if (hasMax) return MaxExclusive ? $" < {FormatReal(Max)}" : $" <= {FormatReal(Max)}";
            return "";
        }
    }

    /// <summary>Parses a value written as text (a YAML scalar or a CLI option); returns an error sentence or null.</summary>
    public string? TryParse(string text, out object value)
    {
        value = Default;
        string t = text.Trim();
        switch (Kind)
        {
            case ParameterKind.Real:
                if (!TryParseReal(t, out double d)) return $"'{text}' is not a number";
                value = d;
                return CheckRange(d);
            case ParameterKind.Integer:
                if (!long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l))
                    return $"'{text}' is not an integer";
                value = l;
                return CheckRange(l);
            case ParameterKind.Choice:
                string? match = Choices.FirstOrDefault(c => string.Equals(c, t, StringComparison.OrdinalIgnoreCase));
                if (match == null) return $"'{text}' is not one of {Domain}";
                value = match;
                return null;
            default:
                switch (t.ToLowerInvariant())
                {
                    case "on" or "true" or "yes": value = true; return null;
                    case "off" or "false" or "no": value = false; return null;
                    default: return $"'{text}' is not on or off";
                }
        }
    }

    private string? CheckRange(double v)
    {
        bool below = MinExclusive ? v <= Min : v < Min;
        bool above = MaxExclusive ? v >= Max : v > Max;
        return below || above ? $"{FormatReal(v)} is out of range" : null;
    }

    public string Format(object value) => value switch
    {
        double d => FormatReal(d),
        long l => l.ToString(CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "on" : "off",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    public static bool TryParseReal(string text, out double value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "inf" or ".inf" or "+inf" or "infinity": value = double.PositiveInfinity; return true;
            case "-inf" or "-.inf" or "-infinity": value = double.NegativeInfinity; return true;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && !double.IsNaN(value);
    }

    /// <summary>The shortest text that round-trips, "inf" for infinity: canonical names depend on it.</summary>
    public static string FormatReal(double d) =>
        double.IsPositiveInfinity(d) ? "inf" : double.IsNegativeInfinity(d) ? "-inf" : d.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
}
