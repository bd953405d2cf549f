using System.Numerics;

namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>
/// The ring Z_R that masked inputs live in (docs/defences.md, secagg; Flower: R = 2^32). Any R in [2, 2^63], so a sum of two
/// residues never overflows 64 bits and reduction is one conditional subtraction.
/// </summary>
public readonly record struct Modulus
{
    public Modulus(ulong r)
    {
        if (r < 2 || r > 1UL << 63) throw new ArgumentOutOfRangeException(nameof(r), $"the modulus must be in [2, 2^63], got {r}");
        R = r;
    }

    /// <summary>R = 2^bits.</summary>
    public static Modulus PowerOfTwo(int bits) =>
        bits is >= 1 and <= 63 ? new Modulus(1UL << bits) : throw new ArgumentOutOfRangeException(nameof(bits), $"modulus bits must be in [1, 63], got {bits}");

    public ulong R { get; }

    public bool IsPowerOfTwo => BitOperations.IsPow2(R);

    /// <summary>Bytes that hold any residue in [0, R): ⌈bits(R − 1) / 8⌉, at least 1 (4 for R = 2^32).</summary>
    public int ResidueBytes => Math.Max(1, (64 - BitOperations.LeadingZeroCount(R - 1) + 7) / 8);

    public ulong Add(ulong a, ulong b)
    {
        ulong s = a + b;
        return s >= R ? s - R : s;
    }

    public ulong Subtract(ulong a, ulong b) => a >= b ? a - b : a + (R - b);

    /// <summary>acc ← acc + x (mod R), element-wise.</summary>
    public void AddTo(Span<ulong> acc, ReadOnlySpan<ulong> x)
    {
        if (x.Length != acc.Length) throw new ArgumentException("lengths differ", nameof(x));
        for (int i = 0; i < acc.Length; i++) acc[i] = Add(acc[i], x[i]);
    }

    public override string ToString() => IsPowerOfTwo ? $"2^{BitOperations.Log2(R)}" : R.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
