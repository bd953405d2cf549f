using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Plots;

public sealed class RoundPlotsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private const string EfOn = "topk(keep=0.1,scope=layer,ef=on)";
    private const string EfOff = "topk(keep=0.1,scope=layer,ef=off)";

    private static CellRow Row(string defense, int round, double asr, int seed = 0) =>
        SampleRows.Ok("llg", "", defense, asr, seed: seed) with { Round = round, LnAcc = asr / 2 };

    private static CellRow[] Sweep(params int[] rounds) =>
    [
        .. rounds.SelectMany(r => new[] { 0, 1 }.SelectMany(seed => new[]
        {
            Row(EfOn, r, 0.9 - 0.01 * r, seed), Row(EfOff, r, 0.8 - 0.02 * r, seed),
        })),
    ];

    [Fact]
    public void A_block_swept_over_rounds_gets_leakage_against_round_per_metric_in_png_and_svg()
    {
        var written = RoundPlots.Render(Sweep(0, 1, 5, 20), _temp.Path).ToList();

        Assert.Equal(["b_asr_vs_round.png", "b_lnacc_vs_round.png"], written.Select(Path.GetFileName).Order());
        Assert.All(written, p => Assert.True(File.Exists(Path.ChangeExtension(p, ".svg"))));
        var texts = SampleRows.SvgTexts(Path.ChangeExtension(written[0], ".svg"));
        Assert.Contains($"llg, {EfOn}", texts);
        Assert.Contains($"llg, {EfOff}", texts);
        Assert.Contains("random guess", texts);
        Assert.Contains(texts, t => t.StartsWith("rounds R of federated training", StringComparison.Ordinal));
    }

    [Fact]
    public void A_run_with_one_round_gets_no_round_plot_and_every_run_goes_through_the_exporter_list()
    {
        Assert.Empty(RoundPlots.Render(Sweep(0), _temp.Path));
        Assert.Empty(RoundPlots.Render(Sweep(3), _temp.Path));

        var run = new RunFolder(_temp["run"]);
        var exported = RunExporters.ExportAll(Sweep(0, 2), run);
        Assert.Contains(exported.Plots, p => Path.GetFileName(p) == "b_asr_vs_round.png");
    }

    public void Dispose() => _temp.Dispose();
}
