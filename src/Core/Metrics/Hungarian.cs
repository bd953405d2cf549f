namespace DefenseBench.Core.Metrics;

/// <summary>
/// The assignment problem (Kuhn 1955; Munkres 1957): rows to distinct columns at minimum total cost, for n rows and
/// m ≥ n columns, in O(n²m) with the shortest-augmenting-path form that keeps dual potentials u, v.
/// </summary>
public static class Hungarian
{
    /// <summary>For each row, the column assigned to it; Σ_i cost[i, result[i]] is minimal over all injective assignments.</summary>
    public static int[] Solve(double[,] cost)
    {
        int n = cost.GetLength(0), m = cost.GetLength(1);
        if (n > m) throw new ArgumentException($"{n} rows cannot take distinct columns among {m}", nameof(cost));
        foreach (double c in cost)
            if (!double.IsFinite(c)) throw new ArgumentException("costs must be finite", nameof(cost));
        // 1-based arrays with a virtual column 0, as in the classic formulation.
        var u = new double[n + 1];
        var v = new double[m + 1];
        var rowOf = new int[m + 1]; // rowOf[j]: the row matched to column j (0 = none)
        var way = new int[m + 1];
        for (int i = 1; i <= n; i++)
        {
            rowOf[0] = i;
            int j0 = 0;
            var minv = Enumerable.Repeat(double.PositiveInfinity, m + 1).ToArray();
            var used = new bool[m + 1];
            do
            {
                used[j0] = true;
                int i0 = rowOf[j0], j1 = 0;
                double delta = double.PositiveInfinity;
                for (int j = 1; j <= m; j++)
                {
                    if (used[j]) continue;
                    double reduced = cost[i0 - 1, j - 1] - u[i0] - v[j];
                    if (reduced < minv[j])
                    {
                        minv[j] = reduced;
                        way[j] = j0;
                    }
                    if (minv[j] < delta)
                    {
                        delta = minv[j];
                        j1 = j;
                    }
                }
                for (int j = 0; j <= m; j++)
                {
                    if (used[j])
                    {
                        u[rowOf[j]] += delta;
                        v[j] -= delta;
                    }
                    else
                    {
                        minv[j] -= delta;
                    }
                }
                j0 = j1;
            } while (rowOf[j0] != 0);
            do
            {
                int j1 = way[j0];
                rowOf[j0] = rowOf[j1];
                j0 = j1;
            } while (j0 != 0);
        }
        var result = new int[n];
        for (int j = 1; j <= m; j++)
            if (rowOf[j] != 0) result[rowOf[j] - 1] = j - 1;
        return result;
    }
}
