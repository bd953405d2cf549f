namespace DefenseBench.Core.Components;

/// <summary>
/// A component's canonical name, as matrix files, cells.csv and the plots spell it: "id" for a component without
/// parameters, else "id(name=value,...)" with every parameter in declaration order; the stages of a defence pipeline
/// are joined by '>' ("none" for the empty pipeline). <see cref="ParameterValues.CanonicalName"/> writes it and
/// <see cref="Parse"/> reads it back, so the form is defined here once.
/// </summary>
public sealed record CanonicalName(string Id, IReadOnlyList<(string Name, string Value)> Parameters)
{
    /// <summary>Joins the stages of a defence pipeline.</summary>
    public const char StageSeparator = '>';

    /// <summary>The canonical name of the empty pipeline.</summary>
    public const string NoStages = "none";

    public override string ToString() => Parameters.Count == 0 ? Id : $"{Id}({string.Join(",", Parameters.Select(p => $"{p.Name}={p.Value}"))})";

    /// <summary>A pipeline's name from its stages' names: "none" without stages.</summary>
    public static string Pipeline(IEnumerable<string> stages)
    {
        var names = stages.ToList();
        return names.Count == 0 ? NoStages : string.Join(StageSeparator, names);
    }

    /// <summary>
    /// One stage read back: the id before '(' and each "name=value" between the parentheses (split on ',', the
    /// separator values never contain). Lenient, as cells.csv may come from another version: a pair without '=' is
    /// skipped.
    /// </summary>
    public static CanonicalName Parse(string text)
    {
        int open = text.IndexOf('(');
        if (open < 0) return new CanonicalName(text, []);
        var parameters = new List<(string, string)>();
        foreach (string pair in text[(open + 1)..].TrimEnd(')').Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            if (eq > 0) parameters.Add((pair[..eq], pair[(eq + 1)..]));
        }
        return new CanonicalName(text[..open], parameters);
    }

    /// <summary>A pipeline's stages read back (split on '>' outside parentheses); none for "none" or "".</summary>
    public static IReadOnlyList<CanonicalName> ParsePipeline(string text)
    {
        if (text is NoStages or "") return [];
        var stages = new List<CanonicalName>();
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == StageSeparator && depth == 0)
            {
                stages.Add(Parse(text[start..i]));
                start = i + 1;
            }
        }
        stages.Add(Parse(text[start..]));
        return stages;
    }
}
