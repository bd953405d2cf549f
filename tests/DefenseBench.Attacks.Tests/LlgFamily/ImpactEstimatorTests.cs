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
    public void Reference_scaling_follows_the_llg_code_formulas()
    {
        // A = [[a00, a01], [a10, a11]]: m = (1 + 1/C)/U · (a00 + a11)/(n·C·B); s_j = Σ_{i≠j} a_ij / (n(C − 1)).
        double[,] a = { { -8, 3 }, { 5, -6 } };
        var estimate = ImpactEstimator.FromClassSums(a, batchSize: 4, steps: 2, repeats: 10, LlgScaling.Reference);
        Assert.Equal(1.5 / 2 * -14 / (10 * 2 * 4.0), estimate.Impact, 12);
        Assert.Equal([5 / 10.0, 3 / 10.0], estimate.Offset);
    }

    [Fact]
    public void Sum_scaling_keeps_one_occurrences_impact_and_multiplies_the_offset_by_u()
    {
        // The upload sums U step gradients, each a mean over B: m = (1 + 1/C)·(a00 + a11)/(n·C·B), s_j = U·Σ_{i≠j} a_ij/(n(C − 1)).
        double[,] a = { { -8, 3 }, { 5, -6 } };
        var estimate = ImpactEstimator.FromClassSums(a, batchSize: 4, steps: 2, repeats: 10, LlgScaling.Sum);
        Assert.Equal(1.5 * -14 / (10 * 2 * 4.0), estimate.Impact, 12);
        Assert.Equal([2 * 5 / 10.0, 2 * 3 / 10.0], estimate.Offset);
        var oneStep = ImpactEstimator.FromClassSums(a, batchSize: 4, steps: 1, repeats: 10, LlgScaling.Sum);
        Assert.Equal(oneStep.Impact, ImpactEstimator.FromClassSums(a, 4, 1, 10, LlgScaling.Reference).Impact, 12);
    }

    /// <summary>
    /// Class sums A whose estimate is exactly (m, s) at one step: A_ii = m·n·B/(1 + 1/C), A_ij = n·s_j (i ≠ j).
    /// </summary>
    private static double[,] ClassSumsFor(double impact, double[] offset, int batchSize, int repeats)
    {
        int c = offset.Length;
        var a = new double[c, c];
        for (int i = 0; i < c; i++)
            for (int j = 0; j < c; j++)
                a[i, j] = i == j ? impact * repeats * batchSize / (1 + 1.0 / c) : repeats * offset[j];
        return a;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(10)]
    public void Sum_scaling_recovers_the_exact_multiset_from_u_exact_steps_where_the_reference_does_not(int steps)
    {
        // Each step's row sums are exactly s + n_t·m (n_t: that step's counts, non-IID); the upload is their sum.
        const int classes = 10, batch = 16, repeats = 10;
        const double impact = -0.05;
        var rng = new Rng((ulong)steps);
        int referenceMisses = 0;
        for (int trial = 0; trial < 20; trial++)
        {
            var offset = Enumerable.Range(0, classes).Select(_ => rng.Uniform(0.002, 0.02)).ToArray();
            var g = new double[classes];
            var counts = new int[classes];
            int major = rng.NextInt(classes), minor = rng.NextInt(classes);
            for (int t = 0; t < steps; t++)
            {
                var step = new int[classes];
                step[major] += batch / 2;
                step[minor] += batch / 4;
                for (int k = 0; k < batch - batch / 2 - batch / 4; k++) step[rng.NextInt(classes)]++;
                for (int c = 0; c < classes; c++)
                {
                    g[c] += offset[c] + step[c] * impact;
                    counts[c] += step[c];
                }
            }
            var a = ClassSumsFor(impact, offset, batch, repeats);
            var sum = ImpactEstimator.FromClassSums(a, batch, steps, repeats, LlgScaling.Sum);
            Assert.Equal(counts, LlgExtraction.Extract(g, batch * steps, sum.Impact, sum.Offset, sortAndTruncate: true));
            var reference = ImpactEstimator.FromClassSums(a, batch, steps, repeats, LlgScaling.Reference);
            if (!counts.SequenceEqual(LlgExtraction.Extract(g, batch * steps, reference.Impact, reference.Offset, sortAndTruncate: true)))
                referenceMisses++;
        }
        Assert.True(referenceMisses > 0, "the reference's m/U should miss some multisets when U > 1");
    }
}
