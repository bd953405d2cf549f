using DefenseBench.Core.Metrics;
using DefenseBench.Harness.Baselines;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Tests.Baselines;

/// <summary>
/// verify, reproduce and submissions compare PSNR at the resolution of 8-bit images: a seed beyond half a grey level's RMSE
/// counts as that bound, so converged seeds that float32 rounding spreads over 56-89 dB do not fail a baseline, while a
/// seed below the bound moves its cell as before.
/// </summary>
public sealed class ResolvedPsnrTests
{
    private static readonly Dictionary<string, double> Tolerance = new() { ["psnr"] = 2, ["default"] = 1e-6 };

    private static BaselineCell Cell(params double[] psnrBySeed) =>
        BaselineCell.From(psnrBySeed.Select((psnr, seed) => new CellRow { CellId = "c", Seed = seed, Status = CellRow.Ok, Attack = "dlg", Psnr = psnr }).ToArray());

    private static List<Movement> Compare(BaselineCell was, BaselineCell now) =>
        Verifier.Compare(metric => Tolerance.GetValueOrDefault(metric, Tolerance["default"]), [was], [now]);

    [Fact]
    public void Converged_seeds_that_rounding_moved_by_several_decibels_do_not_move_the_cell()
    {
        // Raw means 50.0 and 40.25 dB: 9.75 dB apart, with a 2 dB tolerance.
        var moved = Compare(Cell(80, 20), Cell(60.5, 20));

        Assert.Empty(moved);
        Assert.Equal((ImageMetrics.EightBitPsnr + 20) / 2, Cell(80, 20).Metrics["psnr"], 12);
    }

    [Theory]
    [InlineData(40.0, 34.0)]  // a seed below the bound moves by 6 dB (the cell mean by 3)
    [InlineData(80.0, 40.0)]  // a converged seed stops converging
    [InlineData(54.0, 48.0)]  // just below the bound
    public void A_seed_that_moves_below_the_resolution_still_moves_the_cell(double was, double now)
    {
        var moved = Assert.Single(Compare(Cell(was, 20), Cell(now, 20)));

        Assert.Equal("psnr", moved.What);
    }

    [Fact]
    public void Only_psnr_is_capped()
    {
        Assert.Equal(70, BaselineCell.Comparable("ssim", 70));
        Assert.Equal(70, BaselineCell.Comparable("mse", 70));
        Assert.Equal(ImageMetrics.EightBitPsnr, BaselineCell.Comparable("psnr", 70));
        Assert.Equal(30, BaselineCell.Comparable("psnr", 30));
    }

    [Fact]
    public void The_bound_is_half_an_8_bit_grey_level_and_keeps_not_a_number()
    {
        Assert.Equal(54.1514, ImageMetrics.EightBitPsnr, 4);
        Assert.Equal(ImageMetrics.Psnr(Math.Pow(0.5 / 255, 2)), ImageMetrics.EightBitPsnr, 9);
        Assert.Equal(ImageMetrics.EightBitPsnr, ImageMetrics.Resolved(double.PositiveInfinity));
        Assert.True(double.IsNaN(ImageMetrics.Resolved(double.NaN)));
    }
}
