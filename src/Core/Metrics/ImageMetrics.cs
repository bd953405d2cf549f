using DefenseBench.Core.Data;

namespace DefenseBench.Core.Metrics;

/// <summary>One reconstruction scored against the original it was matched to.</summary>
public sealed record ImageScore(int Reconstruction, int Original, double Mse, double Psnr, double Ssim);

/// <summary>
/// Image-reconstruction metrics on channel-major [0, 1] images with data range 1, as pure functions. Not the DLM code's
/// versions (docs/attacks.md, DLM): its PSNR divides by the CIFAR-100 std (+11.5 dB) and its SSIM uses
/// data_range = 255 on [0, 1] images.
/// </summary>
public static class ImageMetrics
{
    /// <summary>
    /// PSNR of identical images is +∞; results files and means use this ceiling instead (a mean squared error of
    /// 1e-10, far below float32 resolution of a [0, 1] pixel).
    /// </summary>
    public const double PsnrCeiling = 100;

    /// <summary>
    /// The PSNR (data range 1) of a reconstruction whose RMSE is half an 8-bit grey level, 20·log10(2·255) ≈ 54.15 dB.
    /// Two reconstructions both above it lie within one grey level of each other, below the resolution 8-bit images are
    /// stored at; how far above is float32 rounding. On the MNIST sample, converged DLG seeds end between 56 and 89 dB, and
    /// the same unbatched run moved them by up to 5 dB when only the BLAS library's code path changed (docs/attacks.md).
    /// </summary>
    public static readonly double EightBitPsnr = 20 * Math.Log10(2 * 255.0);

    /// <summary>A PSNR at the resolution of 8-bit images: the value, or <see cref="EightBitPsnr"/> where it is higher.</summary>
    public static double Resolved(double psnr) => double.IsNaN(psnr) ? psnr : Math.Min(psnr, EightBitPsnr);

    public static double Mse(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length || a.Length == 0) throw new ArgumentException($"images differ in size ({a.Length} vs {b.Length}) or are empty");
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = (double)a[i] - b[i];
            sum += d * d;
        }
        return sum / a.Length;
    }

    /// <summary>PSNR = 10·log10(R² / MSE) with data range R (1 for [0, 1] images); +∞ when MSE = 0.</summary>
    public static double Psnr(double mse, double dataRange = 1) =>
        mse <= 0 ? double.PositiveInfinity : 10 * Math.Log10(dataRange * dataRange / mse);

    public static double Psnr(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double dataRange = 1) => Psnr(Mse(a, b), dataRange);

    /// <summary>A reconstruction as scored: every pixel clamped to [0, 1], and a pixel that is not a number set to 0.</summary>
    public static float[] Clamp01(ReadOnlySpan<float> pixels)
    {
        var result = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++) result[i] = float.IsNaN(pixels[i]) ? 0f : Math.Clamp(pixels[i], 0f, 1f);
        return result;
    }

    /// <summary>
    /// SSIM (Wang, Bovik, Sheikh, Simoncelli 2004, eq. 13) with an 11×11 Gaussian window of σ = 1.5, K1 = 0.01, K2 = 0.03
    /// and data range R: local means, variances and covariance are Gaussian-weighted over every position where the window
    /// fits ("valid", as the reference MATLAB code and pytorch_msssim), the SSIM map is averaged, then the channels.
    /// </summary>
    public static double Ssim(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ImageShape shape, double dataRange = 1)
    {
        if (a.Length != shape.Size || b.Length != shape.Size) throw new ArgumentException($"images must have {shape.Size} pixels ({shape})");
        const int window = 11;
        if (shape.Height < window || shape.Width < window) throw new ArgumentException($"SSIM's {window}x{window} window does not fit a {shape} image");
        double c1 = Math.Pow(0.01 * dataRange, 2), c2 = Math.Pow(0.03 * dataRange, 2);
        var kernel = Gaussian(window, 1.5);
        int plane = shape.Height * shape.Width;
        double total = 0;
        for (int ch = 0; ch < shape.Channels; ch++)
        {
            var x = ToDouble(a.Slice(ch * plane, plane));
            var y = ToDouble(b.Slice(ch * plane, plane));
            var mx = Filter(x, shape.Height, shape.Width, kernel);
            var my = Filter(y, shape.Height, shape.Width, kernel);
            var mxx = Filter(Multiply(x, x), shape.Height, shape.Width, kernel);
            var myy = Filter(Multiply(y, y), shape.Height, shape.Width, kernel);
            var mxy = Filter(Multiply(x, y), shape.Height, shape.Width, kernel);
            double sum = 0;
            for (int i = 0; i < mx.Length; i++)
            {
                double vx = mxx[i] - mx[i] * mx[i], vy = myy[i] - my[i] * my[i], cxy = mxy[i] - mx[i] * my[i];
                sum += (2 * mx[i] * my[i] + c1) * (2 * cxy + c2) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2));
            }
            total += sum / mx.Length;
        }
        return total / shape.Channels;
    }

    /// <summary>
    /// Matches reconstructions one-to-one to originals at minimum total MSE (Hungarian algorithm; there may be more
    /// originals than reconstructions, e.g. U local steps on different batches) and scores each pair after clamping
    /// the reconstruction to [0, 1]. Reconstructions of a batch come back in no particular order, so scoring them in
    /// batch order would understate any attack with B &gt; 1.
    /// </summary>
    public static ImageScore[] MatchAndScore(IReadOnlyList<float[]> reconstructions, IReadOnlyList<float[]> originals, ImageShape shape)
    {
        var clamped = reconstructions.Select(r => Clamp01(r)).ToArray();
        var mse = new double[clamped.Length, originals.Count];
        for (int i = 0; i < clamped.Length; i++)
            for (int j = 0; j < originals.Count; j++) mse[i, j] = Mse(clamped[i], originals[j]);
        var match = Hungarian.Solve(mse);
        return match.Select((j, i) => new ImageScore(i, j, mse[i, j], Psnr(mse[i, j]), Ssim(clamped[i], originals[j], shape))).ToArray();
    }

    /// <summary>The normalised 1-D Gaussian g(k) ∝ exp(−(k − c)² / 2σ²); the 2-D window is its outer product.</summary>
    public static double[] Gaussian(int size, double sigma)
    {
        var g = Enumerable.Range(0, size).Select(k => Math.Exp(-Math.Pow(k - (size - 1) / 2.0, 2) / (2 * sigma * sigma))).ToArray();
        double sum = g.Sum();
        return g.Select(v => v / sum).ToArray();
    }

    /// <summary>Separable "valid" filtering of an h×w plane: rows, then columns.</summary>
    private static double[] Filter(double[] plane, int h, int w, double[] kernel)
    {
        int k = kernel.Length, ow = w - k + 1, oh = h - k + 1;
        var rows = new double[h * ow];
        for (int r = 0; r < h; r++)
            for (int c = 0; c < ow; c++)
            {
                double s = 0;
                for (int t = 0; t < k; t++) s += kernel[t] * plane[r * w + c + t];
                rows[r * ow + c] = s;
            }
        var result = new double[oh * ow];
        for (int r = 0; r < oh; r++)
            for (int c = 0; c < ow; c++)
            {
                double s = 0;
                for (int t = 0; t < k; t++) s += kernel[t] * rows[(r + t) * ow + c];
                result[r * ow + c] = s;
            }
        return result;
    }

    private static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    private static double[] Multiply(double[] a, double[] b) => a.Select((v, i) => v * b[i]).ToArray();
}
