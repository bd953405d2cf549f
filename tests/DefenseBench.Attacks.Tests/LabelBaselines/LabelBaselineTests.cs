using DefenseBench.Attacks.Common;
using DefenseBench.Attacks.Tests.Support;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Tests.LabelBaselines;

public sealed class LabelBaselineTests
{
    private static IAttack Create(string id) => AttackCatalog.All.Get(id).CreateDefault();

    [Theory]
    [InlineData("idlg-label")]
    [InlineData("gi-label")]
    [InlineData("rlg")]
    public void Existence_attacks_mark_their_outcome_and_output_ones_for_present_classes(string id)
    {
        var spec = AttackRun.Scenario(8, LabelDistribution.NonIid, model: "lenet5", dataset: "synthetic-cifar100");
        var (outcome, _) = AttackRun.Outcome(Create(id), spec, 0);

        var recovery = Assert.Single(outcome.Labels);
        Assert.True(recovery.ExistenceOnly);
        Assert.All(recovery.Counts, n => Assert.InRange(n, 0, 1));
    }

    [Theory]
    [InlineData("idlg-label")]
    [InlineData("gi-label")]
    [InlineData("rlg")]
    [InlineData("ebi")]
    public void Every_baseline_finds_a_single_label_on_an_untrained_relu_model(string id)
    {
        var spec = AttackRun.Scenario(1, LabelDistribution.Iid, model: "lenet5", dataset: "synthetic-cifar100");
        for (int trial = 0; trial < 5; trial++)
        {
            var (outcome, truths) = AttackRun.Outcome(Create(id), spec, trial);
            Assert.Equal(1.0, LabelMetrics.LeAcc(outcome.Labels[0].Counts, truths[0]));
        }
    }

    [Fact]
    public void Ebi_recovers_the_exact_counts_when_every_sample_predicts_uniformly()
    {
        // With p = 1/C for every sample, ∇b_c = 1/C − n_c/B exactly: the bias-only counting model holds.
        int[] counts = [3, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        int b = counts.Sum();
        using var scope = torch.NewDisposeScope();
        var biasGrad = torch.tensor(counts.Select(n => 1.0 / counts.Length - (double)n / b).ToArray());
        var layer = new LastLayer(torch.zeros(counts.Length, 5), biasGrad, b, 1);

        Assert.Equal(counts, ((LastLayerAttack)Create("ebi")).Recover(layer));
    }

    [Fact]
    public void Idlg_and_gi_read_the_row_sum_and_the_row_minimum()
    {
        using var scope = torch.NewDisposeScope();
        // Row 0: negative sum and minimum; row 1: positive sum but a negative entry; row 2: non-negative.
        var weightGrad = torch.tensor(new double[,] { { -1, -2, 0.5 }, { 3, -0.1, 1 }, { 0, 0.2, 0.1 } });
        var layer = new LastLayer(weightGrad, null, 2, 1);

        Assert.Equal([1, 0, 0], ((LastLayerAttack)Create("idlg-label")).Recover(layer));
        Assert.Equal([1, 1, 0], ((LastLayerAttack)Create("gi-label")).Recover(layer));
    }
}
