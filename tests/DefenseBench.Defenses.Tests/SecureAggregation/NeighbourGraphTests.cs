using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.SecureAggregation;

namespace DefenseBench.Defenses.Tests.SecureAggregation;

public sealed class NeighbourGraphTests
{
    [Theory]
    [InlineData(100, 10)]
    [InlineData(11, 2)]
    [InlineData(12, 8)]
    public void Every_client_of_a_ring_has_exactly_degree_neighbours(int clients, int degree)
    {
        var graph = NeighbourGraph.Ring(clients, degree, new Rng(5));

        for (int u = 0; u < clients; u++)
        {
            Assert.Equal(degree, graph.Of(u).Count);
            Assert.DoesNotContain(u, graph.Of(u));
            Assert.All(graph.Of(u), v => Assert.True(graph.AreNeighbours(v, u)));
        }
    }

    [Fact]
    public void The_ring_order_is_random_but_reproducible()
    {
        var a = NeighbourGraph.Ring(30, 4, new Rng(1));
        var b = NeighbourGraph.Ring(30, 4, new Rng(1));
        var c = NeighbourGraph.Ring(30, 4, new Rng(2));

        Assert.Equal(a.Of(0), b.Of(0));
        Assert.False(Enumerable.Range(0, 30).All(u => a.Of(u).SequenceEqual(c.Of(u))));
    }

    [Fact]
    public void A_degree_of_at_least_n_minus_1_joins_everyone()
    {
        var graph = NeighbourGraph.Ring(7, 10, new Rng(1));

        Assert.All(Enumerable.Range(0, 7), u => Assert.Equal(6, graph.Of(u).Count));
    }

    [Fact]
    public void An_odd_degree_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NeighbourGraph.Ring(10, 3, new Rng(1)));
    }
}
