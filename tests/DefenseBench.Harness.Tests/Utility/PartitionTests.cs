using DefenseBench.Core.Components;
using DefenseBench.Core.Randomness;
using DefenseBench.Harness.Utility;

namespace DefenseBench.Harness.Tests.Utility;

public sealed class PartitionTests
{
    private static int[] Labels(int count, int classes) => Enumerable.Range(0, count).Select(i => i % classes).ToArray();

    [Fact]
    public void An_iid_partition_deals_every_example_once_in_near_equal_shares()
    {
        var parts = Partition.Iid(103, 10, new Rng(1));

        Assert.Equal(Enumerable.Range(0, 103), parts.SelectMany(p => p).Order());
        Assert.All(parts, p => Assert.InRange(p.Length, 10, 11));
    }

    [Fact]
    public void A_dirichlet_partition_gives_every_example_to_exactly_one_client()
    {
        var labels = Labels(1000, 10);

        var parts = Partition.Dirichlet(labels, 10, 8, 0.5, 10, new Rng(2));

        Assert.Equal(Enumerable.Range(0, 1000), parts.SelectMany(p => p).Order());
        Assert.All(parts, p => Assert.True(p.Length >= 10));
    }

    /// <summary>Mean over clients of the label entropy (nats) of each client's examples.</summary>
    private static double MeanEntropy(int[][] parts, int[] labels) => parts.Average(p =>
        -p.GroupBy(i => labels[i]).Sum(g => (double)g.Count() / p.Length * Math.Log((double)g.Count() / p.Length)));

    [Fact]
    public void A_smaller_alpha_gives_clients_fewer_classes()
    {
        var labels = Labels(2000, 10);

        double skewed = MeanEntropy(Partition.Dirichlet(labels, 10, 10, 0.1, 5, new Rng(3)), labels);
        double mild = MeanEntropy(Partition.Dirichlet(labels, 10, 10, 100, 5, new Rng(3)), labels);

        Assert.True(skewed < 1.6, $"α = 0.1 left clients with label entropy {skewed}");
        Assert.True(mild > 2.2, $"α = 100 gave clients label entropy {mild} (uniform over 10 classes: {Math.Log(10)})");
    }

    [Fact]
    public void A_partition_is_a_function_of_its_stream()
    {
        var labels = Labels(500, 5);

        Assert.Equal(Partition.Dirichlet(labels, 5, 4, 1, 10, new Rng(4)), Partition.Dirichlet(labels, 5, 4, 1, 10, new Rng(4)));
        Assert.NotEqual(Partition.Dirichlet(labels, 5, 4, 1, 10, new Rng(4)), Partition.Dirichlet(labels, 5, 4, 1, 10, new Rng(5)));
    }

    [Fact]
    public void An_impossible_minimum_share_is_an_input_error()
    {
        var e = Assert.Throws<InputException>(() => Partition.Dirichlet(Labels(20, 2), 2, 10, 0.5, 10, new Rng(6)));

        Assert.Contains("raise the partition's α", e.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(1.0)]
    [InlineData(4.5)]
    public void Gamma_draws_have_mean_and_variance_equal_to_the_shape(double shape)
    {
        var rng = new Rng(7);
        var draws = Enumerable.Range(0, 40000).Select(_ => Partition.Gamma(shape, rng)).ToArray();

        double mean = draws.Average();
        double variance = draws.Sum(x => (x - mean) * (x - mean)) / (draws.Length - 1);
        Assert.Equal(shape, mean, 0.03 * shape + 0.01);
        Assert.Equal(shape, variance, 0.06 * shape + 0.01);
        Assert.All(draws, x => Assert.True(x >= 0));
    }
}
