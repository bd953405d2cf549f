using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Core.Tests.Federation;

public sealed class LabelDistributionTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(33)]
    [InlineData(128)]
    public void Non_iid_puts_half_the_batch_on_class_a_and_a_quarter_on_class_b(int batchSize)
    {
        var rng = new Rng((ulong)batchSize);
        for (int trial = 0; trial < 50; trial++)
        {
            var dominant = LabelDistributions.DominantClasses(10, rng);
            var counts = LabelMetrics.Counts(LabelDistribution.NonIid.Draw(batchSize, 10, dominant, rng), 10);

            Assert.NotEqual(dominant.A, dominant.B);
            Assert.Equal(batchSize, counts.Sum());
            // The rest (B − ⌊B/2⌋ − ⌊B/4⌋ labels) is uniform over all classes, so a and b may get a few more.
            Assert.True(counts[dominant.A] >= batchSize / 2, $"B={batchSize}: {counts[dominant.A]} of a");
            Assert.True(counts[dominant.B] >= batchSize / 4, $"B={batchSize}: {counts[dominant.B]} of b");
            Assert.True(counts[dominant.A] <= batchSize - batchSize / 4);
        }
    }

    [Fact]
    public void Non_iid_extra_labels_of_class_a_come_only_from_the_uniform_rest()
    {
        // B=32: 16 of a, 8 of b, 8 uniform over 10 classes, so E[count of a] = 16 + 8/10 exactly.
        var rng = new Rng(5);
        const int trials = 4000;
        double total = 0;
        for (int t = 0; t < trials; t++)
        {
            var dominant = LabelDistributions.DominantClasses(10, rng);
            total += LabelMetrics.Counts(LabelDistribution.NonIid.Draw(32, 10, dominant, rng), 10)[dominant.A];
        }

        Assert.Equal(16.8, total / trials, 0.1);
    }

    [Fact]
    public void Dominant_classes_are_distinct_and_cover_every_pair()
    {
        var rng = new Rng(9);
        var seen = new HashSet<(int, int)>();
        for (int i = 0; i < 2000; i++)
        {
            var (a, b) = LabelDistributions.DominantClasses(4, rng);
            Assert.NotEqual(a, b);
            Assert.InRange(a, 0, 3);
            Assert.InRange(b, 0, 3);
            seen.Add((a, b));
        }
        Assert.Equal(12, seen.Count);
    }

    [Fact]
    public void Balanced_gives_equal_counts_when_the_batch_is_a_multiple_of_the_classes()
    {
        var rng = new Rng(1);
        var labels = LabelDistribution.Balanced.Draw(20, 10, (0, 1), rng);

        Assert.Equal(Enumerable.Repeat(2, 10), LabelMetrics.Counts(labels, 10));
    }

    [Fact]
    public void Balanced_batch_smaller_than_the_classes_has_distinct_labels()
    {
        var rng = new Rng(2);
        for (int trial = 0; trial < 20; trial++)
        {
            var labels = LabelDistribution.Balanced.Draw(7, 10, (0, 1), rng);
            Assert.Equal(7, labels.Length);
            Assert.Equal(7, labels.Distinct().Count());
            Assert.All(labels, l => Assert.InRange(l, 0, 9));
        }
    }

    [Fact]
    public void Balanced_remainder_goes_to_distinct_classes()
    {
        var rng = new Rng(3);
        var counts = LabelMetrics.Counts(LabelDistribution.Balanced.Draw(23, 10, (0, 1), rng), 10);

        Assert.Equal(23, counts.Sum());
        Assert.Equal(3, counts.Count(c => c == 3));
        Assert.Equal(7, counts.Count(c => c == 2));
    }

    [Fact]
    public void Iid_draws_valid_classes_roughly_uniformly()
    {
        var rng = new Rng(4);
        var counts = new int[10];
        for (int trial = 0; trial < 500; trial++)
            foreach (int label in LabelDistribution.Iid.Draw(20, 10, (0, 1), rng))
            {
                Assert.InRange(label, 0, 9);
                counts[label]++;
            }

        // 10,000 labels: each class expects 1000 with a standard deviation of 30.
        Assert.All(counts, c => Assert.InRange(c, 880, 1120));
        // Chi-square with 9 degrees of freedom; 27.9 is its 0.999 quantile.
        double chi2 = counts.Sum(c => (c - 1000.0) * (c - 1000.0) / 1000.0);
        Assert.True(chi2 < 27.9, $"chi2 = {chi2:F1}");
    }

    [Fact]
    public void Iid_ignores_the_dominant_classes()
    {
        var rng = new Rng(6);
        var counts = new int[10];
        for (int trial = 0; trial < 200; trial++)
            foreach (int label in LabelDistribution.Iid.Draw(10, 10, (3, 4), rng)) counts[label]++;

        Assert.True(counts[3] < 300 && counts[4] < 300, string.Join(",", counts));
    }

    [Fact]
    public void Labels_come_out_shuffled_not_grouped()
    {
        var rng = new Rng(8);
        var labels = LabelDistribution.NonIid.Draw(64, 10, (2, 5), rng);

        Assert.NotEqual(labels.Order(), labels);
        Assert.False(labels.Take(32).All(l => l == 2));
    }

    [Fact]
    public void Draws_are_deterministic_for_a_seed()
    {
        foreach (var d in new[] { LabelDistribution.Iid, LabelDistribution.NonIid, LabelDistribution.Balanced })
            Assert.Equal(d.Draw(16, 10, (1, 2), new Rng(11)), d.Draw(16, 10, (1, 2), new Rng(11)));
    }

    [Theory]
    [InlineData(LabelDistribution.Iid, "iid")]
    [InlineData(LabelDistribution.NonIid, "non-iid")]
    [InlineData(LabelDistribution.Balanced, "balanced")]
    public void Canonical_names_parse_back(LabelDistribution distribution, string canonical)
    {
        Assert.Equal(canonical, distribution.Canonical());
        Assert.True(LabelDistributions.TryParse(canonical, out var parsed));
        Assert.Equal(distribution, parsed);
        Assert.True(LabelDistributions.TryParse(" " + canonical.ToUpperInvariant() + " ", out parsed));
        Assert.Equal(distribution, parsed);
    }

    [Theory]
    [InlineData("noniid")]
    [InlineData("non_iid")]
    [InlineData("Non-IID")]
    public void Non_iid_spellings_are_accepted(string text)
    {
        Assert.True(LabelDistributions.TryParse(text, out var parsed));
        Assert.Equal(LabelDistribution.NonIid, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("dirichlet")]
    [InlineData("non iid")]
    public void Unknown_distributions_do_not_parse(string text)
    {
        Assert.False(LabelDistributions.TryParse(text, out _));
    }
}
