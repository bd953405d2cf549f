using System.Globalization;
using System.Text;
using DefenseBench.Core.Components;
using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Publishing;

/// <summary>What `recommend` prints and draws: the feasible range, the choice, the binding limit, a sweep snippet, a plot.</summary>
public static class RecommendationReport
{
    public static string Text(Recommendation r, string snippet)
    {
        var text = new StringBuilder();
        text.Append($"family {r.Family}{(r.Parameter == null ? "" : $", swept parameter {r.Parameter}")}; limits: {string.Join(", ", r.Limits)} ")
            .Append("(leakage: the upper end of the 95 % interval over seeds, worst case over attacks)\n\n");
        if (r.AlsoVaries.Count > 0)
            text.Append($"note: {string.Join(", ", r.AlsoVaries)} also vary among these settings, so neighbours in {r.Parameter} may differ in more than {r.Parameter}; " +
                        "for a clean boundary, recommend from a run that sweeps one parameter\n\n");
        foreach (var c in r.Candidates)
        {
            text.Append(c.Feasible ? "  ok   " : "  no   ").Append(c.Defense);
            foreach (var check in c.Checks)
                text.Append($"  {check.Metric} {Recommender.Show(check.Upper)}{(check.Met ? "" : " ✗")}");
            text.Append($"  bytes {Leaderboard.Show(c.WireBytes, "0")}\n");
        }
        var feasible = r.Candidates.Where(c => c.Feasible).ToList();
        text.Append('\n');
        if (feasible.Count > 0 && r.Parameter != null)
            text.Append($"feasible {r.Parameter}: {string.Join(", ", feasible.Select(c => Recommender.Show(c.Parameter)))}\n");
        if (r.Chosen is { } chosen)
        {
            text.Append($"recommended ({r.Prefer}): {chosen.Defense}\n");
            foreach (var check in chosen.Checks)
                text.Append($"  {check.Metric}: upper {Recommender.Show(check.Upper)}, mean {Recommender.Show(check.Mean)}{(check.WorstAttack == null ? "" : $" (worst: {check.WorstAttack}{Scores.AdaptiveNote(check.WorstAdaptive)})")}\n");
            text.Append($"  utility drop {Recommender.Show(chosen.UtilityDrop)}, bytes on the wire {Leaderboard.Show(chosen.WireBytes, "0")}{(chosen.Epsilon == null ? "" : $", ε {Recommender.Show(chosen.Epsilon)}")}\n");
        }
        else text.Append("no tested setting meets every limit\n");
        foreach (var b in r.Boundaries)
            text.Append($"boundary: {b.Feasible.Defense} meets the limits, {b.Infeasible.Defense} does not ({string.Join(", ", b.Binding)} binds)\n");
        if (snippet.Length == 0 && r.SweepReason.Length > 0 && r.Chosen == null)
            text.Append($"\n{r.SweepReason}\n");
        if (snippet.Length > 0)
            text.Append($"\n{r.SweepReason}; to sweep it more finely, run this matrix:\n\n{snippet}");
        return text.ToString();
    }

    /// <summary>
    /// A ready-to-run matrix that sweeps <see cref="Recommendation.SweepValues"/> in the run's scenario and attacks, the
    /// family's other parameters fixed as tested. cells.csv does not hold the `utility` settings: they are copied from
    /// the run's matrix when manifest.json names a file that still exists.
    /// </summary>
    public static string Snippet(Recommendation r, IReadOnlyList<CellRow> rows, Manifest? manifest)
    {
        if (r.SweepValues.Count == 0 || r.Parameter == null) return "";
        var rowsOfFamily = rows.Where(x => x.Status == CellRow.Ok && DefenseName.Parse(x.Defense).Family == r.Family).ToList();
        var first = rowsOfFamily[0];
        var name = DefenseName.Parse((r.Chosen ?? r.Candidates[0]).Defense);
        string values = "[" + string.Join(", ", r.SweepValues.Select(v => ParameterSpec.FormatReal(v))) + "]";
        string Entries(IEnumerable<(string Stage, string Name, string Value)> parameters) =>
            string.Join(", ", parameters.Select(p => $"{Escape.Yaml(p.Name)}: {(p.Name == r.Parameter ? values : Escape.Yaml(p.Value))}"));
        var stages = name.Family.Split('>').Select(stage => stage.StartsWith(DefenseName.ExecLabel, StringComparison.Ordinal)
            ? ExecStage(stage[DefenseName.ExecLabel.Length..], Entries(name.Parameters.Where(p => p.Stage == stage && p.Name != "name")), manifest)
            : $"{{{Escape.Yaml(stage)}: {{{Entries(name.Parameters.Where(p => p.Stage == stage))}}}}}").ToList();
        string defence = stages.Count == 1 ? stages[0][1..^1] : $"pipeline: [{string.Join(", ", stages)}]";
        var attacks = rowsOfFamily.Select(x => x.AttackParams.Length == 0 ? Escape.Yaml(x.Attack)
                : $"{{{Escape.Yaml(x.Attack)}: {{{string.Join(", ", x.AttackParams.Split(',').Select(p => p.Split('=', 2)).Select(p => $"{Escape.Yaml(p[0])}: {Escape.Yaml(p.Length > 1 ? p[1] : "")}"))}}}}}")
            .Distinct().ToList();
        var yaml = new StringBuilder();
        yaml.Append($"name: {Escape.Yaml($"{r.Family.Replace('>', '-')}-{r.Parameter}-sweep")}\n")
            .Append($"seeds: {rowsOfFamily.Select(x => x.Seed).Distinct().Count()}\n")
            .Append($"dataset: {Escape.Yaml(first.Dataset)}\nmodel: {Escape.Yaml(first.Model)}\nbatch_size: {first.BatchSize}\nlabels: {Escape.Yaml(first.Labels)}\nclients: {first.Clients}\n")
            .Append(first.Protocol.Contains('(', StringComparison.Ordinal) ? $"# protocol: {Escape.Terminal(first.Protocol).Replace('\n', ' ')} (write it as the original matrix did)\n" : $"protocol: {Escape.Yaml(first.Protocol)}\n")
            .Append($"attacks: [{string.Join(", ", attacks)}]\n")
            .Append(UtilityLine(manifest))
            .Append($"blocks:\n  - name: {Escape.Yaml(r.Parameter + "-sweep")}\n    defenses:\n      - none\n      - {defence}\n");
        return yaml.ToString();
    }

    /// <summary>An exec stage with the command the run's manifest recorded for its name (a placeholder the matrix parser refuses when none is).</summary>
    private static string ExecStage(string execName, string parameters, Manifest? manifest)
    {
        string command = manifest?.ExecDefenses.FirstOrDefault(e => e.Name == execName)?.Command ?? "";
        return $"{{exec: {{command: {Escape.Yaml(command)}, name: {Escape.Yaml(execName)}, params: {{{parameters}}}}}}}";
    }

    private static string UtilityLine(Manifest? manifest)
    {
        if (manifest?.MatrixPath is { Length: > 0 } path && File.Exists(path))
            foreach (string line in File.ReadLines(path))
                if (line.StartsWith("utility:", StringComparison.Ordinal)) return line + "\n";
        return "# utility: copy the `utility:` settings of the matrix that produced this run (cells.csv does not hold them)\n";
    }

    /// <summary>Two charts side by side against the swept parameter: worst-case leakage and utility drop, the feasible range shaded.</summary>
    public static string Plot(Recommendation r)
    {
        var tested = r.Candidates.Where(c => c.Parameter != null).ToList();
        var feasible = tested.Where(c => c.Feasible).ToList();
        (double, double, string)? shade = feasible.Count == 0 ? null : (feasible.Min(c => c.Parameter!.Value), feasible.Max(c => c.Parameter!.Value), "feasible");
        bool log = tested.Count > 1 && tested.All(c => c.Parameter > 0) && tested.Max(c => c.Parameter!.Value) / tested.Min(c => c.Parameter!.Value) >= 20;
        string parameter = r.Parameter ?? "setting";
        var charts = new List<string>();
        foreach (var limit in r.Limits.Where(l => l.Leakage).Take(1).Concat(r.Limits.Where(l => !l.Leakage)))
        {
            var points = tested.Select(c => (Candidate: c, Check: c.Checks.First(x => x.Metric == limit.Metric)))
                .Where(p => p.Check.Mean != null)
                .Select(p => new ChartPoint(p.Candidate.Parameter!.Value, p.Check.Mean!.Value, p.Check.Mean.Value, p.Check.Upper!.Value,
                    Recommender.Show(p.Candidate.Parameter) + (p.Candidate == r.Chosen ? " (chosen)" : ""), p.Check.Met))
                .ToList();
            string what = limit.Leakage ? $"worst-case {limit.Metric} (mean, bar to the 95 % upper bound)" : limit.Metric;
            charts.Add(new SvgChart($"{r.Family}: {limit.Metric} against {parameter}", parameter, what, points)
            {
                HorizontalLines = [new ChartLine(limit.Value, $"limit {ParameterSpec.FormatReal(limit.Value)}")],
                Shaded = shade,
                LogX = log,
            }.Render());
        }
        var svg = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{640 * charts.Count}\" height=\"400\" viewBox=\"0 0 {640 * charts.Count} 400\">"));
        for (int i = 0; i < charts.Count; i++)
            svg.Append(string.Create(CultureInfo.InvariantCulture, $"<g transform=\"translate({640 * i} 0)\">")).Append(charts[i]).Append("</g>");
        return svg.Append("</svg>\n").ToString();
    }
}
