namespace DefenseBench.Attacks.LlgFamily;

/// <summary>
/// LLG's label extraction (Wainakh et al. 2022; the LLG code's Predictor.py), as pure functions over the row sums g.
/// </summary>
public static class LlgExtraction
{
    /// <summary>
    /// Stage 1 takes every class with g_c &lt; 0 from the raw g (before any offset); LLG+ sorts that set ascending and
    /// truncates it to N, plain LLG and LLG* do neither (so plain LLG may return more than N labels, as the code warns).
    /// Each selected class gets h_c −= m. Stage 2 repeats argmin h (the first minimum), subtracting m each time, until
    /// N labels are out. h = g − s. Returns counts per class.
    /// </summary>
    public static int[] Extract(double[] g, int labels, double impact, double[]? offset, bool sortAndTruncate)
    {
        int c = g.Length;
        var stage1 = Enumerable.Range(0, c).Where(i => g[i] < 0).ToList();
        if (sortAndTruncate)
            stage1 = stage1.OrderBy(i => g[i]).ThenBy(i => i).Take(labels).ToList();
        var h = new double[c];
        for (int i = 0; i < c; i++) h[i] = g[i] - (offset?[i] ?? 0);
        var counts = new int[c];
        foreach (int i in stage1)
        {
            counts[i]++;
            h[i] -= impact;
        }
        for (int taken = stage1.Count; taken < labels; taken++)
        {
            int best = 0;
            for (int i = 1; i < c; i++) if (h[i] < h[best]) best = i;
            counts[best]++;
            h[best] -= impact;
        }
        return counts;
    }

    /// <summary>Plain LLG's impact: m = (1 + 1/C) · Σ_{g_c &lt; 0} g_c / (B·U).</summary>
    public static double GradientOnlyImpact(double[] g, int batchSize, int steps) =>
        g.Where(v => v < 0).Sum() / batchSize * (1 + 1.0 / g.Length) / steps;
}
