using System.Numerics;

namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>One Shamir share: the polynomial's value <see cref="Y"/> at the holder's point <see cref="X"/> ≥ 1.</summary>
public readonly record struct Share(int X, BigInteger Y);

/// <summary>
/// Shamir t-of-k secret sharing (Shamir 1979) over the prime field GF(p), p = 2^521 − 1 (a Mersenne prime), so a
/// secret of up to 65 bytes (a 32-byte seed, a P-256 private key) is one field element. The secret is the constant
/// term of a random polynomial of degree t − 1; any t shares give it back by Lagrange interpolation at 0, and t − 1
/// shares are consistent with every secret.
/// </summary>
public static class Shamir
{
    public static readonly BigInteger Prime = (BigInteger.One << 521) - 1;

    /// <summary>Bytes of a share's Y on the wire (⌈521 / 8⌉).</summary>
    public const int ElementSize = 66;

    /// <summary>The largest secret, in bytes, that is always below p.</summary>
    public const int MaxSecretSize = 65;

    /// <summary>Shares of <paramref name="secret"/> for the holders at <paramref name="points"/> (distinct, ≥ 1), any <paramref name="threshold"/> of which rebuild it.</summary>
    public static Share[] Split(ReadOnlySpan<byte> secret, int threshold, IReadOnlyList<int> points, SecretSource random)
    {
        if (secret.Length > MaxSecretSize) throw new ArgumentException($"secrets are at most {MaxSecretSize} bytes, got {secret.Length}", nameof(secret));
        if (threshold < 1 || threshold > points.Count)
            throw new ArgumentOutOfRangeException(nameof(threshold), $"the threshold must be in [1, {points.Count}] for {points.Count} holders, got {threshold}");
        if (points.Any(x => x < 1) || points.Distinct().Count() != points.Count)
            throw new ArgumentException("share points must be distinct and at least 1", nameof(points));
        var coefficients = new BigInteger[threshold];
        coefficients[0] = FromBytes(secret);
        for (int j = 1; j < threshold; j++) coefficients[j] = RandomElement(random);
        return points.Select(x => new Share(x, Evaluate(coefficients, x))).ToArray();
    }

    /// <summary>The secret of <paramref name="secretSize"/> bytes from at least the threshold's number of shares (Lagrange at 0).</summary>
    public static byte[] Combine(IReadOnlyList<Share> shares, int secretSize)
    {
        if (shares.Count == 0) throw new ArgumentException("no shares", nameof(shares));
        if (shares.Select(s => s.X).Distinct().Count() != shares.Count) throw new ArgumentException("shares must come from distinct points", nameof(shares));
        var secret = BigInteger.Zero;
        for (int i = 0; i < shares.Count; i++)
        {
            // ℓ_i(0) = Π_{j≠i} x_j / (x_j − x_i): both products are small integers, so the inverse by extended
            // Euclid takes a few steps where Fermat's a^(p−2) would take 521 squarings.
            BigInteger numerator = BigInteger.One, denominator = BigInteger.One;
            for (int j = 0; j < shares.Count; j++)
            {
                if (j == i) continue;
                numerator *= shares[j].X;
                denominator *= shares[j].X - shares[i].X;
            }
            var lagrange = Mod(numerator) * Inverse(Mod(denominator)) % Prime;
            secret = (secret + shares[i].Y * lagrange) % Prime;
        }
        return ToBytes(secret, secretSize);
    }

    /// <summary>Horner's rule mod p.</summary>
    private static BigInteger Evaluate(BigInteger[] coefficients, int x)
    {
        var y = BigInteger.Zero;
        for (int j = coefficients.Length - 1; j >= 0; j--) y = (y * x + coefficients[j]) % Prime;
        return y;
    }

    /// <summary>Uniform in [0, p): 521 random bits; of the 2^521 values only p itself is rejected.</summary>
    private static BigInteger RandomElement(SecretSource random)
    {
        Span<byte> bytes = stackalloc byte[ElementSize];
        while (true)
        {
            random.Fill(bytes);
            bytes[ElementSize - 1] &= 0x01; // keep 521 bits (little-endian: the top byte holds bit 520)
            var value = new BigInteger(bytes, isUnsigned: true);
            if (value < Prime) return value;
        }
    }

    private static BigInteger Mod(BigInteger v) => (v % Prime + Prime) % Prime;

    /// <summary>a⁻¹ mod p for 0 &lt; a &lt; p, by the extended Euclidean algorithm.</summary>
    private static BigInteger Inverse(BigInteger a)
    {
        BigInteger r0 = Prime, r1 = a, t0 = BigInteger.Zero, t1 = BigInteger.One;
        while (!r1.IsZero)
        {
            var q = BigInteger.DivRem(r0, r1, out var r2);
            (r0, r1) = (r1, r2);
            (t0, t1) = (t1, t0 - q * t1);
        }
        if (!r0.IsOne) throw new ArgumentException("not invertible modulo p", nameof(a));
        return Mod(t0);
    }

    public static BigInteger FromBytes(ReadOnlySpan<byte> bytes) => new(bytes, isUnsigned: true, isBigEndian: true);

    public static byte[] ToBytes(BigInteger value, int size)
    {
        var raw = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        if (raw.Length > size) throw new ArgumentException($"the value needs {raw.Length} bytes, more than {size}", nameof(size));
        var bytes = new byte[size];
        raw.CopyTo(bytes, size - raw.Length);
        return bytes;
    }

    /// <summary>A share's Y as <see cref="ElementSize"/> big-endian bytes.</summary>
    public static byte[] Encode(Share share) => ToBytes(share.Y, ElementSize);
}
