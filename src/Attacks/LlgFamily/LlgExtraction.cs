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

    /// <summary>
    /// The common factor f ∈ (0, 1] a clip scaled the gradient by, fitted to the observed row sums: LLG's model of g is
    /// f·(n·m + s) for the counts n, so alternately the extraction with f·m and f·s gives n and least squares gives
    /// f = ⟨g, n·m + s⟩ / ‖n·m + s‖², until f settles (a clip only shrinks, so f stays at most 1).
    /// </summary>
    public static double FitScale(double[] g, int labels, ImpactEstimate estimate, bool sortAndTruncate)
    {
        double f = 1;
        for (int iteration = 0; iteration < 50; iteration++)
        {
            var counts = Extract(g, labels, f * estimate.Impact, estimate.Offset.Select(s => f * s).ToArray(), sortAndTruncate);
            double dot = 0, square = 0;
            for (int j = 0; j < g.Length; j++)
            {
                double predicted = counts[j] * estimate.Impact + estimate.Offset[j];
                dot += g[j] * predicted;
                square += predicted * predicted;
            }
            double next = square > 0 && dot > 0 ? Math.Min(1, dot / square) : f;
            if (Math.Abs(next - f) <= 1e-12 * f) return next;
            f = next;
        }
        return f;
    }
}
