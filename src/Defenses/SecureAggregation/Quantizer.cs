using System.Globalization;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>
/// Fixed-point encoding of real values into Z_R (docs/defences.md, secagg, after Flower's SecAgg+): clip to [−c, c], map
/// onto the Q = 2^bits levels 0 … Q − 1 of step Δ = 2c / (Q − 1), and round stochastically so the code is unbiased:
/// E[Δ·q − c] = x for |x| ≤ c. A sum of n codes is exact in Z_R while n·(Q − 1) &lt; R, and decodes as S·Δ − n·c.
/// </summary>
public sealed record Quantizer(double Clip, int Bits)
{
    public ulong Levels => 1UL << Bits;

    /// <summary>Δ = 2c / (Q − 1): one level in real units.</summary>
    public double Step => 2 * Clip / (Levels - 1);

    /// <summary>Codes of <paramref name="values"/>·<paramref name="scale"/>, one uniform draw per value for the rounding.</summary>
    public void Encode(ReadOnlySpan<float> values, double scale, Span<ulong> destination, Rng rng)
    {
        if (destination.Length != values.Length) throw new ArgumentException("lengths differ", nameof(destination));
        double levelsPerUnit = 1 / Step;
        for (int i = 0; i < values.Length; i++) destination[i] = Encode(values[i] * scale, levelsPerUnit, rng);
    }

    public ulong Encode(double value, Rng rng) => Encode(value, 1 / Step, rng);

    private ulong Encode(double value, double levelsPerUnit, Rng rng)
    {
        if (double.IsNaN(value)) throw new ArgumentException("secure aggregation cannot encode NaN", nameof(value));
        double level = (Math.Clamp(value, -Clip, Clip) + Clip) * levelsPerUnit;
        double floor = Math.Floor(level);
        ulong code = (ulong)floor + (rng.NextDouble() < level - floor ? 1UL : 0UL);
        return Math.Min(code, Levels - 1);
    }

    /// <summary>The real sum of <paramref name="count"/> encoded values from their summed code.</summary>
    public double Decode(ulong sum, int count) => sum * Step - count * Clip;

    /// <summary>Throws unless n codes sum without wrapping around R: n·(Q − 1) &lt; R.</summary>
    public void CheckCapacity(int summands, Modulus modulus)
    {
        var largest = (UInt128)(ulong)summands * (Levels - 1);
        if (largest >= modulus.R)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"secure aggregation cannot sum {summands} inputs: n·(Q − 1) = {summands}·(2^{Bits} − 1) ≥ R = {modulus}, so the sum would wrap around; lower quant_bits or raise modulus_bits so that n·(2^quant_bits − 1) < 2^modulus_bits"));
    }
}
