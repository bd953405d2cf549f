using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.SecureAggregation;

namespace DefenseBench.Defenses.Tests.SecureAggregation;

public sealed class QuantizerTests
{
    [Fact]
    public void Stochastic_rounding_is_unbiased()
    {
        var quantizer = new Quantizer(1, 4); // coarse: Δ = 2/15, so rounding matters
        var rng = new Rng(3);
        const double x = 0.123;
        const int n = 40_000;

        double mean = Enumerable.Range(0, n).Average(_ => quantizer.Decode(quantizer.Encode(x, rng), 1));

        // Rounding noise is at most Δ/2 per draw: the mean's standard error is below Δ/(2√n).
        Assert.InRange(mean, x - 4 * quantizer.Step / (2 * Math.Sqrt(n)), x + 4 * quantizer.Step / (2 * Math.Sqrt(n)));
    }

    [Fact]
    public void Values_outside_the_clip_range_land_on_the_end_levels()
    {
        var quantizer = new Quantizer(8, 22);
        var rng = new Rng(1);

        Assert.Equal(0UL, quantizer.Encode(-100, rng));
        Assert.Equal(quantizer.Levels - 1, quantizer.Encode(100, rng));
        Assert.Equal(quantizer.Levels - 1, quantizer.Encode(double.PositiveInfinity, rng));
        Assert.Throws<ArgumentException>(() => quantizer.Encode(double.NaN, rng));
    }

    [Fact]
    public void A_sum_of_codes_decodes_to_the_sum_of_values()
    {
        var quantizer = new Quantizer(2, 10); // Δ = 4/1023
        double[] values = [-2, -0.5, 0, 1.25, 2];
        var rng = new Rng(9);

        ulong sum = values.Aggregate(0UL, (s, v) => s + quantizer.Encode(v, rng));

        Assert.InRange(quantizer.Decode(sum, values.Length), values.Sum() - values.Length * quantizer.Step, values.Sum() + values.Length * quantizer.Step);
    }

    [Fact]
    public void The_capacity_check_allows_n_times_q_minus_1_below_r_and_nothing_more()
    {
        var quantizer = new Quantizer(8, 22);

        quantizer.CheckCapacity(1024, Modulus.PowerOfTwo(32)); // 1024·(2^22 − 1) = 2^32 − 1024
        var e = Assert.Throws<InvalidOperationException>(() => quantizer.CheckCapacity(1025, Modulus.PowerOfTwo(32)));

        Assert.Equal("secure aggregation cannot sum 1025 inputs: n·(Q − 1) = 1025·(2^22 − 1) ≥ R = 2^32, so the sum would wrap around; " +
                     "lower quant_bits or raise modulus_bits so that n·(2^quant_bits − 1) < 2^modulus_bits", e.Message);
    }
}
