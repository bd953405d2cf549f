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

        var png = Assert.Single(PlotRenderer.RenderAll(rows, _temp.Path));

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

        var written = PlotRenderer.RenderAll(rows, _temp.Path);

        Assert.Equal(["b_llg_topk_keep_asr_b2.png", "b_llg_topk_keep_asr_b5.png"], written.Select(Path.GetFileName).Order());
        Assert.All(written, p => Assert.True(File.Exists(Path.ChangeExtension(p, ".svg"))));
        Assert.Contains(Texts(Path.ChangeExtension(written[0], ".svg")), t => t.Contains("log scale", StringComparison.Ordinal));
    }

    [Fact]
    public void No_plot_is_drawn_without_two_values_of_a_swept_parameter()
    {
        CellRow[] rows = [Row(Aux4, "none", 0.9), Row(Aux4, TopK(0.5), 0.8, seed: 0), Row(Aux4, TopK(0.5), 0.7, seed: 1)];

        Assert.Empty(PlotRenderer.RenderAll(rows, _temp.Path));
    }

    [Fact]
    public void Failed_rows_are_left_out_of_the_plots()
    {
        CellRow[] rows =
        [
            Row(Aux4, "none", 0.9), Row(Aux4, TopK(0.5), 0.8),
            Row(Aux4, TopK(0.1), 0.7) with { Status = CellRow.Failed, Asr = null },
        ];

        Assert.Empty(PlotRenderer.RenderAll(rows, _temp.Path));
    }

    public void Dispose() => _temp.Dispose();
}
