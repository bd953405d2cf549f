namespace DefenseBench.Harness.Plots;

/// <summary>A canonical defence string parsed back: stage ids and parameters ("topk(keep=0.1,scope=layer)>noise(...)").</summary>
public sealed record DefenseName(string Family, IReadOnlyList<(string Stage, string Name, string Value)> Parameters)
{
    public bool IsNone => Family == "none";

    public static DefenseName Parse(string canonical)
    {
        if (canonical is "none" or "") return new DefenseName("none", []);
        var ids = new List<string>();
        var parameters = new List<(string, string, string)>();
        foreach (string stage in SplitStages(canonical))
        {
            int open = stage.IndexOf('(');
            string id = open < 0 ? stage : stage[..open];
            ids.Add(id);
            if (open < 0) continue;
            string inner = stage[(open + 1)..].TrimEnd(')');
            foreach (string pair in inner.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = pair.IndexOf('=');
                if (eq > 0) parameters.Add((id, pair[..eq], pair[(eq + 1)..]));
            }
        }
        return new DefenseName(string.Join(">", ids), parameters);
    }

    /// <summary>Splits on '>' outside parentheses.</summary>
    private static IEnumerable<string> SplitStages(string text)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == '>' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }

    public string? Value(string stage, string name) => Parameters.FirstOrDefault(p => p.Stage == stage && p.Name == name).Value;
}
