using DefenseBench.Attacks.LlgFamily;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Attacks.Tests.LlgFamily;

public sealed class LlgExtractionTests
{
    /// <summary>g_c = s_c + n_c·m with a small positive offset, so exactly the present classes are negative.</summary>
    private static (double[] G, double[] Offset) ExactRowSums(int[] counts, double impact, Rng rng)
    {
        var offset = counts.Select(_ => rng.Uniform(0.01, 0.2) * -impact).ToArray();
        return (counts.Select((n, c) => offset[c] + n * impact).ToArray(), offset);
    }

    [Fact]
    public void Llg_plus_recovers_the_exact_multiset_when_offsets_and_impact_are_exact()
    {
        var rng = new Rng(4);
        for (int trial = 0; trial < 50; trial++)
        {
            int classes = 2 + rng.NextInt(30), labels = 1 + rng.NextInt(200);
            var counts = new int[classes];
            for (int i = 0; i < labels; i++) counts[rng.NextInt(classes)]++;
            var (g, offset) = ExactRowSums(counts, -0.37, rng);
            Assert.Equal(counts, LlgExtraction.Extract(g, labels, -0.37, offset, sortAndTruncate: true));
        }
    }

    [Fact]
    public void Llg_plus_keeps_only_the_most_negative_classes_when_more_than_n_are_negative()
    {
        double[] g = [-1, -5, -3, 0.5, -4];
        var counts = LlgExtraction.Extract(g, 2, -1, offset: null, sortAndTruncate: true);
        Assert.Equal([0, 1, 0, 0, 1], counts);
    }

    [Fact]
    public void Plain_llg_takes_every_negative_class_even_beyond_n_as_the_reference_code_does()
    {
        double[] g = [-1, -5, -3, 0.5, -4];
        var counts = LlgExtraction.Extract(g, 2, -1, offset: null, sortAndTruncate: false);
        Assert.Equal(4, counts.Sum());
        Assert.Equal([1, 1, 1, 0, 1], counts);
    }

    [Fact]
    public void Stage_two_adds_the_argmin_class_and_charges_it_one_impact_each_time()
    {
        // Class 1 is far below the others, so it absorbs labels until its h rises past class 0's.
        double[] g = [-1, -10, 2];
        var counts = LlgExtraction.Extract(g, 6, -2, offset: null, sortAndTruncate: true);
        // Stage 1 (sorted): 1 then 0 → h = [1, -8, 2]; stage 2: 1 (−6), 1 (−4), 1 (−2), 1 (0) → h = [1, 0, 2].
        Assert.Equal([1, 5, 0], counts);
    }

    [Fact]
    public void Gradient_only_impact_is_the_negative_mass_over_b_times_u_scaled_by_one_plus_one_over_c()
    {
        double[] g = [-2, 1, -4, 5];
        Assert.Equal(-6.0 / (8 * 3) * (1 + 1.0 / 4), LlgExtraction.GradientOnlyImpact(g, 8, 3), 12);
    }

    [Fact]
    public void Every_variant_outputs_b_times_u_labels_when_at_most_that_many_classes_are_negative()
    {
        var rng = new Rng(9);
        var g = Enumerable.Range(0, 10).Select(_ => rng.Uniform(-1, 1)).ToArray();
        foreach (bool truncate in new[] { true, false })
            Assert.Equal(16 * 4, LlgExtraction.Extract(g, 16 * 4, -0.1, null, truncate).Sum());
    }
}
