using System.Globalization;
using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Plots;

public sealed class TradeoffPlotTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private static CellRow Row(string defense, double utility, double asr, int seed = 0, string attack = "llg-plus") =>
        SampleRows.Ok(attack, "", defense, asr, 64, seed) with
        {
            Block = "curve", Dataset = "mnist-sample", Model = "lenet5", AsrRandom = 0.4, UtilityAcc = utility,
        };

    private static string Dp(double z) => $"dpsgd(clip=1,z={z.ToString(CultureInfo.InvariantCulture)})";
    private static string TopK(double keep) => $"topk(keep={keep.ToString(CultureInfo.InvariantCulture)},scope=layer,ef=on)";

    private static readonly CellRow[] Curve =
    [
        Row("none", 0.95, 0.99), Row("none", 0.95, 0.97, seed: 1),
        Row(Dp(0.5), 0.80, 0.90), Row(Dp(2), 0.70, 0.60), Row(Dp(8), 0.40, 0.42),
        Row(TopK(0.1), 0.94, 0.70), Row(TopK(0.01), 0.85, 0.45),
    ];

    private static string[] Texts(string svg) => SampleRows.SvgTexts(svg);

    [Fact]
    public void Each_setting_is_one_point_labelled_by_the_parameter_that_varies_in_its_family()
    {
        var points = TradeoffPlot.Points(Curve, "asr");

        Assert.Equal(6, points.Count);
        var none = Assert.Single(points, p => p.Undefended);
        Assert.Equal(0.98, none.Leakage, 12);
        Assert.Equal(Math.Sqrt(0.0002), none.LeakageStd, 12);
        Assert.Equal(["z=0.5", "z=2", "z=8"], points.Where(p => p.Family == "dpsgd").Select(p => p.Label));
        Assert.Equal(["keep=0.1", "keep=0.01"], points.Where(p => p.Family == "topk").Select(p => p.Label));
    }

    [Fact]
    public void The_pareto_front_keeps_the_settings_no_other_setting_beats_on_both_axes()
    {
        var front = TradeoffPlot.ParetoFront(TradeoffPlot.Points(Curve, "asr"));

        // dpsgd z=0.5 (0.80, 0.90) is beaten by topk keep=0.1 (0.94, 0.70) and z=2 (0.70, 0.60) by keep=0.01 (0.85, 0.45).
        Assert.Equal([Dp(8), TopK(0.01), TopK(0.1), "none"], front.Select(p => p.Defense));
    }

    [Fact]
    public void One_plot_per_attack_marks_the_undefended_point_the_front_and_the_random_guess()
    {
        var rows = Curve.Concat(Curve.Select(r => r with { Attack = "llg", Asr = r.Asr - 0.1 })).ToArray();

        var written = TradeoffPlot.RenderAll(rows, _temp.Path);

        Assert.Equal(["curve_llg-plus_tradeoff_asr.png", "curve_llg_tradeoff_asr.png"], written.Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var texts = Texts(Path.Combine(_temp.Path, "curve_llg-plus_tradeoff_asr.svg"));
        foreach (string text in new[] { "no defence", "Pareto front", "random guess", "dpsgd (clip=1)", "topk (scope=layer,ef=on)", "z=8", "keep=0.01" })
            Assert.Contains(text, texts);
        Assert.Contains(texts, t => t.StartsWith("curve: llg-plus leakage vs utility", StringComparison.Ordinal));
    }

    [Fact]
    public void Rows_without_utility_draw_no_tradeoff_plot()
    {
        Assert.Empty(TradeoffPlot.RenderAll(Curve.Select(r => r with { UtilityAcc = null }).ToArray(), _temp.Path));
    }

    public void Dispose() => _temp.Dispose();
}
