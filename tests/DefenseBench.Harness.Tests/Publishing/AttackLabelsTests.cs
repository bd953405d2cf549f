using System.Xml.Linq;
using DefenseBench.Harness.Publishing;

namespace DefenseBench.Harness.Tests.Publishing;

/// <summary>A board's short attack names (column headers, legend) and the leakage drawing beside each number.</summary>
public sealed class AttackLabelsTests
{
    [Fact]
    public void Attacks_are_named_as_their_papers_name_them_with_adaptive_marked()
    {
        string[] keys = ["llg", "llg-plus(repeats=10,aux_per_class=64,estimator=batched,scaling=sum,adaptive=on)", "ilrg(sum_to_batch=off)"];
        var labels = AttackLabels.For(keys);

        Assert.Equal(["LLG", "LLG+ adaptive", "iLRG"], keys.Select(k => labels[k]));
    }

    [Fact]
    public void Variants_of_one_attack_are_told_apart_by_the_parameters_that_differ()
    {
        string[] keys = ["llg-plus(repeats=10,aux_per_class=16,adaptive=on)", "llg-plus(repeats=10,aux_per_class=64,adaptive=on)", "llg-plus(repeats=10,aux_per_class=64,adaptive=off)"];
        var labels = AttackLabels.For(keys);

        Assert.Equal(["LLG+ aux_per_class=16 adaptive", "LLG+ aux_per_class=64 adaptive", "LLG+ aux_per_class=64"], keys.Select(k => labels[k]));
    }

    [Fact]
    public void Variants_whose_differences_are_too_long_to_head_a_column_get_letters()
    {
        string[] keys = ["dlg(optimizer=lbfgs,lr=1,iterations=300)", "dlg(optimizer=adam,lr=0.1,iterations=3000)"];
        var labels = AttackLabels.For(keys);

        Assert.Equal(["DLG a", "DLG b"], keys.Select(k => labels[k]));
    }

    [Fact]
    public void An_attack_the_catalog_does_not_know_is_named_by_its_id()
    {
        string[] keys = ["exec(name=rowsum)", "exec(name=other)", "llg"];
        var labels = AttackLabels.For(keys);

        Assert.Equal(["exec name=rowsum", "exec name=other", "LLG"], keys.Select(k => labels[k]));
    }

    [Theory]
    [InlineData(0.5, 0.25, 1.2, 3, "32", "M16 6H64M16 2V10M64 2V10")]
    [InlineData(-0.2, -0.5, 0.1, 3, "0", "M0 6H6.4M0 2V10M6.4 2V10")]
    [InlineData(1.4, 1.4, 1.4, 1, "64", null)]
    public void The_bar_spans_0_to_1_with_the_interval_as_a_whisker_clamped_to_the_scale(double mean, double low, double high, int n, string fill, string? whisker)
    {
        string html = BoardHtml.Leakage(new AttackScore("llg", "asr", true, new Interval(mean, low, high, n), ["c"]), by: null);

        var svg = XElement.Parse(html[html.IndexOf("<svg", StringComparison.Ordinal)..]);
        Assert.Equal(fill, svg.Elements("rect").Single(r => (string?)r.Attribute("class") == "fill").Attribute("width")!.Value);
        Assert.Equal(whisker, (string?)svg.Element("path")?.Attribute("d"));
        Assert.StartsWith($"<span class=\"v\">{Leaderboard.Show(mean, "0.000")}</span>", html, StringComparison.Ordinal);
    }
}
