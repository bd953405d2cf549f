using DefenseBench.Attacks.Common;
using DefenseBench.Attacks.LlgFamily;
using DefenseBench.Attacks.Tests.Support;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Data;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using TorchSharp;

namespace DefenseBench.Attacks.Tests.LlgFamily;

/// <summary>The batched closed form must give what one autograd pass per class-pure batch gives.</summary>
public sealed class ImpactEstimatorTests
{
    private static (ImpactEstimate Batched, ImpactEstimate Reference, int[] CountsBatched, int[] CountsReference) Both(
        Func<Estimator, ModelBasedLlg> attack, ScenarioSpec spec)
    {
        using var scope = torch.NewDisposeScope();
        var dataset = DatasetCatalog.Open(spec.Dataset);
        var round = VictimRound.Create(spec, dataset, 3, torch.CPU);
        var view = DefensePipeline.None.View(round.Model, round.Uploads(), round.Info, new Rng(1));
        var layer = LastLayer.From(view.ClientUpdates![0], spec.BatchSize, spec.Protocol);
        AttackContext Context() => new(torch.CPU, new Rng(77), new DatasetAuxiliary(dataset, spec.NumClasses));
        var batched = attack(Estimator.Batched);
        var reference = attack(Estimator.Autograd);
        return (batched.Estimate(layer, view, Context()), reference.Estimate(layer, view, Context()),
            batched.Recover(layer, view, Context()), reference.Recover(layer, view, Context()));
    }

    private static void AssertClose(ImpactEstimate expected, ImpactEstimate actual)
    {
        Assert.Equal(expected.Impact, actual.Impact, 1e-5 * Math.Abs(expected.Impact));
        double scale = expected.Offset.Max(Math.Abs);
        for (int c = 0; c < expected.Offset.Length; c++) Assert.Equal(expected.Offset[c], actual.Offset[c], 1e-5 * scale);
    }

    [Fact]
    public void Llg_plus_closed_form_matches_the_autograd_reference_and_recovers_the_same_counts()
    {
        var (batched, reference, a, b) = Both(e => new LlgPlus(10, 8, e), AttackRun.Scenario(16, LabelDistribution.NonIid));
        AssertClose(reference, batched);
        Assert.Equal(b, a);
    }

    [Theory]
    [InlineData("zeros")]
    [InlineData("ones")]
    [InlineData("random")]
    public void Llg_star_closed_form_matches_the_autograd_reference(string dummy)
    {
        var (batched, reference, a, b) = Both(e => new LlgStar(3, dummy, e), AttackRun.Scenario(4, LabelDistribution.NonIid));
        AssertClose(reference, batched);
        Assert.Equal(b, a);
    }

    [Fact]
    public void Class_sums_follow_the_llg_code_formulas()
    {
        // A = [[a00, a01], [a10, a11]]: m = (1 + 1/C)/U · (a00 + a11)/(n·C·B); s_j = Σ_{i≠j} a_ij / (n(C − 1)).
        double[,] a = { { -8, 3 }, { 5, -6 } };
        var estimate = ImpactEstimator.FromClassSums(a, batchSize: 4, steps: 2, repeats: 10);
        Assert.Equal(1.5 / 2 * -14 / (10 * 2 * 4.0), estimate.Impact, 12);
        Assert.Equal([5 / 10.0, 3 / 10.0], estimate.Offset);
    }
}
