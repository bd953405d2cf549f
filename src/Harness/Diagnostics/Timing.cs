namespace DefenseBench.Harness.Diagnostics;

/// <summary>Summaries of repeated timings, shared by the benchmarks and `doctor`.</summary>
public static class Timing
{
    /// <summary>The median (mean of the two middle values for an even count); NaN for no values.</summary>
    public static double Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
