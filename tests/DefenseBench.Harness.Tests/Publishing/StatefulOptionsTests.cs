using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Publishing;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Publishing;

/// <summary>
/// A cell attacks one upload with fresh defence sessions, so top-k with error feedback sends what top-k without it
/// sends: the leaderboard and the plots must not present the two as distinct defences.
/// </summary>
public sealed class StatefulOptionsTests
{
    private const string On = "topk(keep=0.1,scope=layer,ef=on)", Off = "topk(keep=0.1,scope=layer,ef=off)";

    private static IEnumerable<CellRow> Setting(string defense, double asr, double accuracy) =>
        Enumerable.Range(0, 3).Select(seed => SampleRows.Ok("llg", "", defense, asr + 0.01 * seed, seed: seed) with { UtilityAcc = accuracy });

    private static List<CellRow> Rows() => [.. Setting("none", 0.9, 0.8), .. Setting(On, 0.6, 0.78), .. Setting(Off, 0.6, 0.7)];

    [Fact]
    public void The_stateless_twin_sets_every_stateful_option_to_its_stateless_value_in_every_stage()
    {
        Assert.Equal(Off, StatefulOptions.Stateless(On));
        Assert.Equal("dpsgd(clip=1,z=1)>topk(keep=0.5,scope=global,ef=off)", StatefulOptions.Stateless("dpsgd(clip=1,z=1)>topk(keep=0.5,scope=global,ef=on)"));
        Assert.Equal("noise(scale=0.1,dist=gaussian)", StatefulOptions.Stateless("noise(scale=0.1,dist=gaussian)"));
    }

    [Fact]
    public void Error_feedback_beside_its_stateless_twin_is_listed_with_the_reason_and_not_ranked()
    {
        var board = Leaderboard.Build(Rows(), Budget.None).Single();

        Assert.Equal([Off, "none"], board.Ranked.Select(e => e.Defense));
        var on = Assert.Single(board.Unranked);
        Assert.Equal(On, on.Defense);
        Assert.Null(on.Rank);
        Assert.StartsWith($"leaks as {Off}", on.Unranked);
    }

    [Fact]
    public void Error_feedback_without_a_stateless_twin_is_ranked_as_usual()
    {
        var board = Leaderboard.Build(Rows().Where(r => r.Defense != Off).ToList(), Budget.None).Single();

        Assert.Contains(board.Ranked, e => e.Defense == On);
        Assert.Empty(board.Unranked);
    }

    [Fact]
    public void The_tradeoff_plot_labels_error_feedback_as_leaking_like_its_twin_in_one_round()
    {
        var points = TradeoffPlot.Points(Rows(), "asr");

        Assert.Contains("one-round leakage as without", points.Single(p => p.Defense == On).Label);
        Assert.DoesNotContain("one-round", points.Single(p => p.Defense == Off).Label);
    }
}
