namespace DefenseBench.Harness.Matrix;

/// <summary>A validated, expanded matrix: its name (the baseline's file name), seeds, tolerances and cells.</summary>
public sealed record MatrixSpec(
    string Name,
    string Path,
    string Sha256,
    IReadOnlyList<int> Seeds,
    IReadOnlyDictionary<string, double> Tolerance,
    IReadOnlyList<Cell> Cells)
{
    /// <summary>Absolute tolerance for a metric: its own, else "default", else exact (1e-9).</summary>
    public double ToleranceFor(string metric) => ToleranceIn(Tolerance, metric);

    /// <summary>A metric's tolerance in a matrix's tolerance map (its own, else "default", else 1e-9), e.g. one a manifest recorded.</summary>
    public static double ToleranceIn(IReadOnlyDictionary<string, double> tolerance, string metric) =>
        tolerance.TryGetValue(metric, out double t) ? t : tolerance.TryGetValue("default", out double d) ? d : 1e-9;

    /// <summary>The PSNR (dB) at or above which a reconstructed image counts as recovered (the success column).</summary>
    public double SuccessPsnr { get; init; } = ScoringOptions.DefaultSuccessPsnr;

    public MatrixSpec WithSeeds(int count) => this with { Seeds = Enumerable.Range(0, count).ToArray() };
}
