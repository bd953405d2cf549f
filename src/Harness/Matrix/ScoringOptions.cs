namespace DefenseBench.Harness.Matrix;

/// <summary>How reconstructions are judged: the PSNR (dB) at or above which an image counts as recovered (the matrix's success_psnr).</summary>
public sealed record ScoringOptions(double SuccessPsnr = ScoringOptions.DefaultSuccessPsnr)
{
    /// <summary>The DLM paper's threshold, here on the standard [0, 1] PSNR (the paper's is 11.5 dB too generous).</summary>
    public const double DefaultSuccessPsnr = 20;
}
