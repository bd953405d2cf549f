using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Plots;

/// <summary>What the exporters of a run wrote: the plots (PNG paths) and the reconstructions' index page, if any.</summary>
public sealed record RunExport(IReadOnlyList<string> Plots, string? ImageIndex);

/// <summary>
/// The exporters every finished run gets, in order: defence sweeps, scenario sweeps, leakage against the attacked round
/// (blocks with more than one `round`), leakage-utility trade-offs, the reconstruction index. `run`, `plot` and `merge` all call <see cref="ExportAll"/>.
/// </summary>
public static class RunExporters
{
    public const string PlotsKind = "plots";
    public const string ImagesKind = "reconstructions";

    public static readonly IReadOnlyList<IExporter> All =
    [
        new Exporter(PlotsKind, (rows, run) => [.. DefenceSweepPlots.Render(Ok(rows), run.Plots)]),
        new Exporter(PlotsKind, (rows, run) => [.. ScenarioSweepPlots.Render(Ok(rows), run.Plots)]),
        new Exporter(PlotsKind, (rows, run) => [.. RoundPlots.Render(Ok(rows), run.Plots)]),
        new Exporter(PlotsKind, (rows, run) => TradeoffPlot.RenderAll(rows, run.Plots)),
        new Exporter(ImagesKind, (rows, run) => ImageIndex.Write(rows, run) is { } index ? [index] : []),
    ];

    public static RunExport ExportAll(IReadOnlyList<CellRow> rows, RunFolder run)
    {
        var written = All.Select(e => (e.Kind, Files: e.Export(rows, run))).ToList();
        return new RunExport([.. written.Where(w => w.Kind == PlotsKind).SelectMany(w => w.Files)],
            written.Where(w => w.Kind == ImagesKind).SelectMany(w => w.Files).FirstOrDefault());
    }

    /// <summary>The sweeps read only the cells that ran (the trade-off plot also notes those that failed).</summary>
    internal static List<CellRow> Ok(IReadOnlyList<CellRow> rows) => rows.Where(r => r.Status == CellRow.Ok).ToList();

    private sealed record Exporter(string Kind, Func<IReadOnlyList<CellRow>, RunFolder, IReadOnlyList<string>> Write) : IExporter
    {
        public IReadOnlyList<string> Export(IReadOnlyList<CellRow> rows, RunFolder run) => Write(rows, run);
    }
}
