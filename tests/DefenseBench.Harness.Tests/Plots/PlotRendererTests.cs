using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Plots;

public sealed class PlotRendererTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private static CellRow Row(string attackParams, string defense, double asr, int batch = 4, int seed = 0) =>
        SampleRows.Ok("llg-plus", attackParams, defense, asr, batch, seed);

    private const string Aux4 = "repeats=10,aux_per_class=4,estimator=batched";
    private const string Aux8 = "repeats=10,aux_per_class=8,estimator=batched";

    private static string TopK(double keep) => $"topk(keep={keep.ToString(System.Globalization.CultureInfo.InvariantCulture)},scope=layer,ef=off)";

    private static string[] Texts(string svg) => SampleRows.SvgTexts(svg);

    [Fact]
    public void Variants_of_one_attack_that_differ_in_a_parameter_are_separate_series()
    {
        CellRow[] rows =
        [
            Row(Aux4, "none", 0.95), Row(Aux4, TopK(0.5), 0.9), Row(Aux4, TopK(0.1), 0.8),
            Row(Aux8, "none", 0.45), Row(Aux8, TopK(0.5), 0.3), Row(Aux8, TopK(0.1), 0.2),
        ];

        var png = Assert.Single(Plots(rows));

        var texts = Texts(Path.ChangeExtension(png, ".svg"));
        Assert.Contains("llg-plus, aux_per_class=4", texts);
        Assert.Contains("llg-plus, aux_per_class=8", texts);
        Assert.Contains("llg-plus, aux_per_class=4, no defence", texts);
        Assert.Contains("llg-plus, aux_per_class=8, no defence", texts);
        Assert.Contains("random guess", texts);
    }

    [Fact]
    public void One_plot_per_scenario_named_after_what_varies_in_png_and_svg()
    {
        var rows = new[] { 2, 5 }.SelectMany(b => new[]
        {
            Row(Aux4, "none", 0.9, b), Row(Aux4, TopK(1), 0.9, b), Row(Aux4, TopK(0.01), 0.5, b),
        }).ToArray();

        var written = DefenceSweepPlots.Render(rows, _temp.Path).ToList();

        Assert.Equal(["b_llg_topk_keep_asr_b2.png", "b_llg_topk_keep_asr_b5.png"], written.Select(Path.GetFileName).Order());
        Assert.All(written, p => Assert.True(File.Exists(Path.ChangeExtension(p, ".svg"))));
        Assert.Contains(Texts(Path.ChangeExtension(written[0], ".svg")), t => t.Contains("log scale", StringComparison.Ordinal));
    }

    [Fact]
    public void No_plot_is_drawn_without_two_values_of_a_swept_parameter()
    {
        CellRow[] rows = [Row(Aux4, "none", 0.9), Row(Aux4, TopK(0.5), 0.8, seed: 0), Row(Aux4, TopK(0.5), 0.7, seed: 1)];

        Assert.Empty(Plots(rows));
    }

    [Fact]
    public void Failed_rows_are_left_out_of_the_plots()
    {
        CellRow[] rows =
        [
            Row(Aux4, "none", 0.9), Row(Aux4, TopK(0.5), 0.8),
            Row(Aux4, TopK(0.1), 0.7) with { Status = CellRow.Failed, Asr = null },
        ];

        Assert.Empty(Plots(rows));
    }

    private static CellRow Label(string attack, int batch, double leacc, double? lnacc, string stage = "untrained", int seed = 0) =>
        Row("", "none", 0, batch, seed) with
        {
            Block = "ilrg", Attack = attack, Stage = stage, Asr = null, AsrRandom = null,
            LeAcc = leacc, LeAccRandom = 0.3, LnAcc = lnacc, LnAccRandom = lnacc == null ? null : 0.2,
        };

    [Fact]
    public void A_block_that_sweeps_the_batch_size_gets_lnacc_and_leacc_against_batch_size_with_one_line_per_attack()
    {
        var rows = new[] { 8, 64, 512 }.SelectMany(b => new[]
        {
            Label("ilrg", b, 1, 1 - b / 1000.0), Label("ilrg", b, 1, 1 - b / 900.0, seed: 1), Label("rlg", b, b < 100 ? 1 : 0.1, null),
        }).ToArray();

        var written = Plots(rows);

        Assert.Equal(["ilrg_leacc_vs_batch.png", "ilrg_lnacc_vs_batch.png"], written.Select(Path.GetFileName).Order());
        var lnacc = Texts(Path.Combine(new RunFolder(_temp.Path).Plots, "ilrg_lnacc_vs_batch.svg"));
        var leacc = Texts(Path.Combine(new RunFolder(_temp.Path).Plots, "ilrg_leacc_vs_batch.svg"));
        Assert.Contains("ilrg", lnacc);
        Assert.DoesNotContain("rlg", lnacc);
        Assert.Contains("rlg", leacc);
        Assert.Contains("random guess", lnacc);
        Assert.Contains(lnacc, t => t.Contains("batch size (log scale)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_block_that_sweeps_the_training_stage_gets_leakage_against_epochs()
    {
        CellRow[] rows =
        [
            Label("ilrg", 64, 1, 1), Label("ilrg", 64, 0.9, 0.72, "epochs=10,lr=0.1,batch=128"),
            Label("ilrg", 64, 0.8, 0.59, "epochs=50,lr=0.1,batch=128"),
        ];

        var written = Plots(rows);

        Assert.Contains("ilrg_lnacc_vs_stage.png", written.Select(Path.GetFileName));
        Assert.Contains(Texts(Path.Combine(new RunFolder(_temp.Path).Plots, "ilrg_lnacc_vs_stage.svg")), t => t == "training epochs");
        Assert.Equal(50, ScenarioSweepPlots.X(rows[2], "stage"));
        Assert.Equal(0, ScenarioSweepPlots.X(rows[0], "stage"));
    }

    /// <summary>The plots the run exporters write into a run folder in the temporary folder.</summary>
    private IReadOnlyList<string> Plots(IReadOnlyList<CellRow> rows) => RunExporters.ExportAll(rows, new RunFolder(_temp.Path)).Plots;

    public void Dispose() => _temp.Dispose();
}
