using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>What a shared key is for: HKDF's info string, so the two keys one key pair yields never coincide.</summary>
public enum KeyPurpose
{
    /// <summary>s_uv = KDF(KA(s_sk_u, s_pk_v)): the seed of the pairwise mask of u and v.</summary>
    PairwiseMask,

    /// <summary>KDF(KA(c_sk_u, c_pk_v)): the AEAD key of the shares u and v send each other.</summary>
    ShareEncryption,
}

/// <summary>
/// An ECDH key pair on NIST P-256 (Bonawitz et al. use ECDH; Flower P-384: P-256 gives the 128-bit security of the
/// AES keys at a third of the cost, which matters at 2·k agreements per client). The private scalar is drawn from a
/// <see cref="SecretSource"/>, so keys are reproducible in tests; agreement is the raw x-coordinate of the shared point
/// (SEC 1 ECDH) through HKDF-SHA256 with a purpose label (RFC 5869), 32 bytes.
/// </summary>
public sealed class KeyPair : IDisposable
{
    private static readonly ECCurve Curve = ECCurve.NamedCurves.nistP256;

    /// <summary>The order n of P-256's base point; private scalars lie in [1, n − 1].</summary>
    private static readonly BigInteger Order = BigInteger.Parse("0FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", System.Globalization.NumberStyles.HexNumber);

    public const int PrivateKeySize = 32;

    private readonly ECDiffieHellman _key;

    private KeyPair(ECDiffieHellman key)
    {
        _key = key;
        Public = new PublicKey(key.PublicKey);
    }

    public PublicKey Public { get; }

    /// <summary>A fresh key pair: a uniform scalar in [1, n − 1] by rejection.</summary>
    public static KeyPair Generate(SecretSource source)
    {
        var d = new byte[PrivateKeySize];
        while (true)
        {
            source.Fill(d);
            var scalar = new BigInteger(d, isUnsigned: true, isBigEndian: true);
            if (!scalar.IsZero && scalar < Order) return FromPrivateKey(d);
        }
    }

    /// <summary>The key pair of a private scalar (big-endian, 32 bytes); the public point is computed from it.</summary>
    public static KeyPair FromPrivateKey(ReadOnlySpan<byte> d)
    {
        if (d.Length != PrivateKeySize) throw new ArgumentException($"a P-256 private key is {PrivateKeySize} bytes, got {d.Length}", nameof(d));
        return new KeyPair(ECDiffieHellman.Create(new ECParameters { Curve = Curve, D = d.ToArray() }));
    }

    /// <summary>The private scalar, big-endian: what a client secret-shares so the server can recover its pairwise masks if it drops out.</summary>
    public byte[] ExportPrivateKey() => _key.ExportParameters(includePrivateParameters: true).D!;

    /// <summary>The raw ECDH secret with <paramref name="other"/>: the x-coordinate of d·Q.</summary>
    public byte[] RawAgreement(PublicKey other) => _key.DeriveRawSecretAgreement(other.Key);

    /// <summary>KDF(KA(sk, pk)) for <paramref name="purpose"/>: HKDF-SHA256, no salt, 32 bytes. Symmetric in the two parties.</summary>
    public byte[] Agree(PublicKey other, KeyPurpose purpose) => Derive(RawAgreement(other), purpose);

    /// <summary>The HKDF step alone, for known-answer tests.</summary>
    public static byte[] Derive(ReadOnlySpan<byte> rawAgreement, KeyPurpose purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, rawAgreement.ToArray(), MaskPrg.KeySize, salt: [], info: Info(purpose));

    private static byte[] Info(KeyPurpose purpose) => Encoding.ASCII.GetBytes(purpose switch
    {
        KeyPurpose.PairwiseMask => "DefenseBench SecAgg pairwise mask",
        _ => "DefenseBench SecAgg share encryption",
    });

    public void Dispose() => _key.Dispose();
}

/// <summary>A participant's advertised public key (the point Q on P-256).</summary>
public sealed class PublicKey(ECDiffieHellmanPublicKey key)
{
    internal ECDiffieHellmanPublicKey Key { get; } = key;

    /// <summary>The point as (X, Y), 32 bytes each, big-endian.</summary>
    public (byte[] X, byte[] Y) Point
    {
        get
        {
            var q = Key.ExportParameters().Q;
            return (q.X!, q.Y!);
        }
    }
}
