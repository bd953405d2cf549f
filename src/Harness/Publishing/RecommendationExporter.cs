using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Publishing;

/// <summary>
/// `recommend`'s output as an <see cref="IExporter"/>: the plot recommend-FAMILY.svg of a chosen
/// <see cref="Recommendation"/> in the target folder, and the sweep snippet the command prints beside it.
/// </summary>
/// <param name="answer">The recommendation (computed first, so bad limits or an unknown family write nothing).</param>
/// <param name="manifest">The run's manifest.json, when it has one: the snippet copies its matrix's utility settings.</param>
/// <param name="source">The cells.csv the family name was read from, named when that name cannot be a file name.</param>
public sealed class RecommendationExporter(Recommendation answer, Manifest? manifest, string source) : IExporter
{
    public string Kind => "recommendation";

    /// <summary>The ready-to-run sweep matrix of the last <see cref="Export"/> ("" when none); null before.</summary>
    public string? Snippet { get; private set; }

    public IReadOnlyList<string> Export(IReadOnlyList<CellRow> rows, RunFolder run)
    {
        Snippet = RecommendationReport.Snippet(answer, rows, manifest);
        string plot = SafePath.Inside(run.Root, $"recommend-{answer.Family.Replace('>', '-')}.svg", $"{source} (defence family)");
        File.WriteAllText(plot, RecommendationReport.Plot(answer));
        return [plot];
    }
}
