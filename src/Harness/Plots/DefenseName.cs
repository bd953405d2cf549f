using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Plots;

/// <summary>
/// A canonical defence string read back for plots and reports (<see cref="CanonicalName.ParsePipeline"/>, the reader of
/// the form the matrix side writes): the stage ids joined by '>' as the family, and every stage's parameters.
/// </summary>
public sealed record DefenseName(string Family, IReadOnlyList<(string Stage, string Name, string Value)> Parameters)
{
    public bool IsNone => Family == CanonicalName.NoStages;

    public static DefenseName Parse(string canonical)
    {
        var stages = CanonicalName.ParsePipeline(canonical);
        return stages.Count == 0
            ? new DefenseName(CanonicalName.NoStages, [])
            : new DefenseName(string.Join(CanonicalName.StageSeparator, stages.Select(s => s.Id)),
                [.. stages.SelectMany(s => s.Parameters.Select(p => (s.Id, p.Name, p.Value)))]);
    }

    public string? Value(string stage, string name) => Parameters.FirstOrDefault(p => p.Stage == stage && p.Name == name).Value;
}
