using DefenseBench.Core.Metrics;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Core.Tests.Metrics;

public sealed class HungarianTests
{
    private static double Cost(double[,] cost, int[] assignment) => assignment.Select((j, i) => cost[i, j]).Sum();

    private static double[,] Random(int n, int m, Rng rng)
    {
        var cost = new double[n, m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) cost[i, j] = Math.Round(rng.Uniform(0, 10), 1);
        return cost;
    }

    /// <summary>The minimum over every injective assignment, by enumeration.</summary>
    private static double BruteForce(double[,] cost, int row = 0, HashSet<int>? used = null)
    {
        used ??= [];
        if (row == cost.GetLength(0)) return 0;
        double best = double.PositiveInfinity;
        for (int j = 0; j < cost.GetLength(1); j++)
        {
            if (!used.Add(j)) continue;
            best = Math.Min(best, cost[row, j] + BruteForce(cost, row + 1, used));
            used.Remove(j);
        }
        return best;
    }

    [Fact]
    public void A_textbook_matrix_gets_its_known_optimum()
    {
        // The classic 3x3 example: rows to columns 1, 0, 2 at cost 1 + 2 + 2 = 5.
        double[,] cost = { { 4, 1, 3 }, { 2, 0, 5 }, { 3, 2, 2 } };

        var assignment = Hungarian.Solve(cost);

        Assert.Equal([1, 0, 2], assignment);
        Assert.Equal(5, Cost(cost, assignment));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 4)]
    [InlineData(6, 6)]
    [InlineData(3, 7)]
    [InlineData(5, 6)]
    public void The_assignment_costs_the_brute_force_minimum_and_uses_distinct_columns(int n, int m)
    {
        var rng = new Rng((ulong)(n * 100 + m));
        for (int trial = 0; trial < 25; trial++)
        {
            var cost = Random(n, m, rng);

            var assignment = Hungarian.Solve(cost);

            Assert.Equal(n, assignment.Distinct().Count());
            Assert.Equal(BruteForce(cost), Cost(cost, assignment), 9);
        }
    }

    [Fact]
    public void More_rows_than_columns_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => Hungarian.Solve(new double[3, 2]));
    }
}
