namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>
/// The bytes a SecAgg / SecAgg+ client sends in one round, its messages encoded plainly: client ids as 4-byte
/// integers, public keys as uncompressed P-256 points (65 bytes), a sealed bundle as its nonce, ciphertext and tag
/// (<see cref="ShareCipher.SealedSize"/>) with sender and receiver, a revealed share as owner, holder, kind, point
/// and a field element (<see cref="Shamir.ElementSize"/>), and the masked vector as residues of
/// <see cref="Modulus.ResidueBytes"/> each. Framing and transport overhead are not counted.
/// </summary>
public static class SecAggWire
{
    public const int IdBytes = 4;
    public const int PointBytes = 65;

    /// <summary>Round 0: the client's id and its two public keys.</summary>
    public const int AdvertisementBytes = IdBytes + 2 * PointBytes;

    /// <summary>Round 1, per neighbour: sender, receiver and the sealed bundle.</summary>
    public const int SealedSharesBytes = 2 * IdBytes + ShareCipher.SealedSize;

    /// <summary>Round 3, per neighbour whose shares the client holds: owner, holder, which secret, the point and the value.</summary>
    public const int RevealedShareBytes = 2 * IdBytes + 1 + IdBytes + Shamir.ElementSize;

    /// <summary>Round 2: the client's id and its masked vector of <paramref name="length"/> residues.</summary>
    public static long MaskedInputBytes(long length, Modulus modulus) => IdBytes + length * modulus.ResidueBytes;

    /// <summary>Everything a client with <paramref name="neighbours"/> neighbours sends when nobody drops out.</summary>
    public static long ClientBytes(long length, int neighbours, Modulus modulus) =>
        AdvertisementBytes + (long)neighbours * (SealedSharesBytes + RevealedShareBytes) + MaskedInputBytes(length, modulus);
}
