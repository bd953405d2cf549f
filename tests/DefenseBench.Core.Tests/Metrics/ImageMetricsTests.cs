using DefenseBench.Core.Data;
using DefenseBench.Core.Metrics;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Core.Tests.Metrics;

public sealed class ImageMetricsTests
{
    private static readonly ImageShape Gray = new(1, 28, 28);

    /// <summary>Pixels that are multiples of 1/256 in [1/8, 7/8], so adding ±1/8 stays exact in float32 and inside [0, 1].</summary>
    private static float[] Image(ImageShape shape, Rng rng) =>
        Enumerable.Range(0, shape.Size).Select(_ => (32 + rng.NextInt(193)) / 256f).ToArray();

    private static float[] Constant(ImageShape shape, float value) => Enumerable.Repeat(value, shape.Size).ToArray();

    [Fact]
    public void Identical_images_have_zero_mse_infinite_psnr_and_ssim_one()
    {
        var x = Image(Gray, new Rng(1));

        Assert.Equal(0, ImageMetrics.Mse(x, x));
        Assert.Equal(double.PositiveInfinity, ImageMetrics.Psnr(x, x));
        Assert.Equal(1, ImageMetrics.Ssim(x, x, Gray), 12);
    }

    [Theory]
    [InlineData(0.125)]
    [InlineData(0.0625)]
    public void Checkerboard_noise_of_amplitude_d_gives_psnr_minus_20_log10_d(double d)
    {
        var x = Image(Gray, new Rng(2));
        var y = x.Select((v, i) => v + (float)((i / 28 + i % 28) % 2 == 0 ? d : -d)).ToArray();

        Assert.Equal(d * d, ImageMetrics.Mse(x, y), 15);
        Assert.Equal(-20 * Math.Log10(d), ImageMetrics.Psnr(x, y), 9);
    }

    [Fact]
    public void Psnr_uses_the_data_range_given()
    {
        // MSE 1 on a 0..255 scale is 48.13 dB; on a 0..1 scale the same MSE is 0 dB.
        Assert.Equal(20 * Math.Log10(255), ImageMetrics.Psnr(1.0, 255), 12);
        Assert.Equal(0, ImageMetrics.Psnr(1.0), 12);
    }

    [Theory]
    [InlineData(0.25f, 0.75f)]
    [InlineData(0.0f, 1.0f)]
    [InlineData(0.5f, 0.5f)]
    public void Ssim_of_two_constant_images_is_the_luminance_term(float a, float b)
    {
        // Zero variances leave only (2ab + C1) / (a² + b² + C1), with C1 = (0.01·1)².
        const double c1 = 1e-4;
        double expected = (2.0 * a * b + c1) / ((double)a * a + (double)b * b + c1);

        Assert.Equal(expected, ImageMetrics.Ssim(Constant(Gray, a), Constant(Gray, b), Gray), 12);
    }

    [Fact]
    public void Ssim_of_an_11_by_11_image_is_the_formula_over_the_gaussian_weighted_whole_image()
    {
        // The window fits exactly once, so the separable filter must give the 2-D Gaussian-weighted statistics.
        var shape = new ImageShape(1, 11, 11);
        var rng = new Rng(3);
        var x = Image(shape, rng);
        var y = Image(shape, rng);
        var g = ImageMetrics.Gaussian(11, 1.5);
        double Weighted(Func<int, double> f) => Enumerable.Range(0, 121).Sum(i => g[i / 11] * g[i % 11] * f(i));
        double mx = Weighted(i => x[i]), my = Weighted(i => y[i]);
        double vx = Weighted(i => x[i] * x[i]) - mx * mx, vy = Weighted(i => y[i] * y[i]) - my * my;
        double cxy = Weighted(i => x[i] * y[i]) - mx * my;
        const double c1 = 1e-4, c2 = 9e-4;
        double expected = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));

        Assert.Equal(expected, ImageMetrics.Ssim(x, y, shape), 12);
    }

    [Fact]
    public void Ssim_averages_the_channels()
    {
        var rgb = new ImageShape(3, 16, 16);
        var x = Image(rgb, new Rng(4));
        var y = x.ToArray();
        Array.Fill(y, 0.5f, 0, 256); // first channel replaced, the other two identical

        double first = ImageMetrics.Ssim(x.AsSpan(0, 256), y.AsSpan(0, 256), new ImageShape(1, 16, 16));

        Assert.Equal((first + 2) / 3, ImageMetrics.Ssim(x, y, rgb), 12);
    }

    [Fact]
    public void The_gaussian_window_is_normalised_symmetric_and_peaks_in_the_middle()
    {
        var g = ImageMetrics.Gaussian(11, 1.5);

        Assert.Equal(1, g.Sum(), 14);
        Assert.Equal(g, g.Reverse().ToArray());
        Assert.Equal(Math.Exp(-1 / (2 * 1.5 * 1.5)), g[6] / g[5], 14);
    }

    [Fact]
    public void Clamping_maps_to_the_unit_interval_and_not_a_number_to_zero()
    {
        Assert.Equal([0f, 0f, 0.25f, 1f, 0f], ImageMetrics.Clamp01([-3f, 0f, 0.25f, 7f, float.NaN]));
    }

    [Fact]
    public void A_permuted_batch_is_matched_back_to_its_originals()
    {
        var rng = new Rng(5);
        var originals = Enumerable.Range(0, 6).Select(_ => Image(Gray, rng)).ToArray();
        int[] permutation = [3, 0, 5, 1, 2, 4]; // a derangement: no image keeps its place
        var reconstructions = permutation.Select(p => originals[p].Select(v => v + 0.01f).ToArray()).ToArray();

        var scores = ImageMetrics.MatchAndScore(reconstructions, originals, Gray);

        Assert.Equal(permutation, scores.Select(s => s.Original));
        Assert.Equal(Enumerable.Range(0, 6), scores.Select(s => s.Reconstruction));
        Assert.All(scores, s => Assert.Equal(40, s.Psnr, 4));
        // Scored in batch order instead, the same reconstructions would look like failures.
        Assert.All(Enumerable.Range(0, 6), i => Assert.True(ImageMetrics.Psnr(ImageMetrics.Clamp01(reconstructions[i]), originals[i]) < 15));
    }

    [Fact]
    public void Fewer_reconstructions_than_originals_each_take_a_distinct_best_original()
    {
        var rng = new Rng(6);
        var originals = Enumerable.Range(0, 5).Select(_ => Image(Gray, rng)).ToArray();
        float[][] reconstructions = [originals[4], originals[1]];

        var scores = ImageMetrics.MatchAndScore(reconstructions, originals, Gray);

        Assert.Equal([4, 1], scores.Select(s => s.Original));
        Assert.All(scores, s => Assert.Equal(double.PositiveInfinity, s.Psnr));
        Assert.All(scores, s => Assert.Equal(1, s.Ssim, 12));
    }

    [Fact]
    public void Reconstructions_are_clamped_before_they_are_scored()
    {
        var x = Image(Gray, new Rng(7));
        var outside = x.Select((v, i) => i % 2 == 0 ? v : v + 5f).ToArray();
        var clipped = ImageMetrics.Clamp01(outside);

        var score = ImageMetrics.MatchAndScore([outside], [x], Gray)[0];

        Assert.Equal(ImageMetrics.Mse(clipped, x), score.Mse, 15);
    }
}
