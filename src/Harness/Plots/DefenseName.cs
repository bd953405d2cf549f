using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Plots;

/// <summary>
/// A canonical defence string read back for plots and reports (<see cref="CanonicalName.ParsePipeline"/>, the reader of
/// the form the matrix side writes): the stage ids joined by '>' as the family, and every stage's parameters. An exec
/// stage is labelled exec-NAME (<see cref="ExecLabel"/>): programs of different names are different families, so
/// exec(name=prune,keep=...) sweeps keep on an axis of its own, and none is mistaken for a built-in defence of its name.
/// </summary>
public sealed record DefenseName(string Family, IReadOnlyList<(string Stage, string Name, string Value)> Parameters)
{
    public bool IsNone => Family == CanonicalName.NoStages;

    public static DefenseName Parse(string canonical)
    {
        var stages = CanonicalName.ParsePipeline(canonical);
        return stages.Count == 0
            ? new DefenseName(CanonicalName.NoStages, [])
            : new DefenseName(string.Join(CanonicalName.StageSeparator, stages.Select(Label)),
                [.. stages.SelectMany(s => s.Parameters.Select(p => (Label(s), p.Name, p.Value)))]);
    }

    /// <summary>"exec-" before an exec stage's name in its label.</summary>
    public const string ExecLabel = Defenses.External.ExecSettings.Id + "-";

    private static string Label(CanonicalName stage) =>
        stage.Id == Defenses.External.ExecSettings.Id && stage.Parameters is [("name", var name), ..] ? ExecLabel + name : stage.Id;

    public string? Value(string stage, string name) => Parameters.FirstOrDefault(p => p.Stage == stage && p.Name == name).Value;
}
