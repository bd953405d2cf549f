using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>What owner u sends holder v in the share-keys round: v's share of u's self-mask seed b_u and of u's mask key s_sk_u.</summary>
public sealed record ShareBundle(int Owner, int Holder, Share SelfMaskSeed, Share MaskKey);

/// <summary>A <see cref="ShareBundle"/> encrypted for its holder; the server only routes these.</summary>
public sealed record SealedShares(int Sender, int Receiver, byte[] Nonce, byte[] Ciphertext, byte[] Tag);

/// <summary>
/// Authenticated encryption of share bundles (Bonawitz et al. 2017, round 1): AES-256-GCM under
/// KDF(KA(c_sk_u, c_pk_v)). Sender and receiver are bound twice: inside the plaintext, as the paper asks, and as
/// associated data, so a ciphertext the server re-routes or relabels fails to open.
/// </summary>
public static class ShareCipher
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HeaderSize = 8;
    private const int PlaintextSize = HeaderSize + 2 * Shamir.ElementSize;

    /// <summary>Bytes of a sealed bundle's nonce, ciphertext and tag.</summary>
    public const int SealedSize = NonceSize + PlaintextSize + TagSize;
    private static readonly byte[] Label = Encoding.ASCII.GetBytes("DefenseBench SecAgg shares");

    public static SealedShares Seal(ReadOnlySpan<byte> key, ShareBundle bundle, SecretSource source)
    {
        if (bundle.SelfMaskSeed.X != bundle.Holder + 1 || bundle.MaskKey.X != bundle.Holder + 1)
            throw new ArgumentException("a holder's shares are the polynomials' values at its point holder + 1", nameof(bundle));
        var plaintext = new byte[PlaintextSize];
        Header(plaintext, bundle.Owner, bundle.Holder);
        Shamir.Encode(bundle.SelfMaskSeed).CopyTo(plaintext, HeaderSize);
        Shamir.Encode(bundle.MaskKey).CopyTo(plaintext, HeaderSize + Shamir.ElementSize);
        var nonce = source.Bytes(NonceSize);
        var ciphertext = new byte[PlaintextSize];
        var tag = new byte[TagSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, ciphertext, tag, AssociatedData(bundle.Owner, bundle.Holder));
        return new SealedShares(bundle.Owner, bundle.Holder, nonce, ciphertext, tag);
    }

    /// <summary>
    /// Opens a bundle addressed to <paramref name="receiver"/>. Throws <see cref="CryptographicException"/> when the
    /// ciphertext, its labels or the key do not match, and <see cref="SecAggRefusedException"/> when it is not for this receiver.
    /// </summary>
    public static ShareBundle Open(ReadOnlySpan<byte> key, SealedShares sealedShares, int receiver)
    {
        if (sealedShares.Receiver != receiver)
            throw new SecAggRefusedException($"client {receiver} was handed shares addressed to client {sealedShares.Receiver}");
        var plaintext = new byte[PlaintextSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(sealedShares.Nonce, sealedShares.Ciphertext, sealedShares.Tag, plaintext, AssociatedData(sealedShares.Sender, sealedShares.Receiver));
        int owner = BinaryPrimitives.ReadInt32BigEndian(plaintext);
        int holder = BinaryPrimitives.ReadInt32BigEndian(plaintext.AsSpan(4));
        if (owner != sealedShares.Sender || holder != receiver)
            throw new SecAggRefusedException($"shares labelled {sealedShares.Sender} → {sealedShares.Receiver} hold {owner} → {holder}");
        int x = receiver + 1;
        return new ShareBundle(owner, holder,
            new Share(x, Shamir.FromBytes(plaintext.AsSpan(HeaderSize, Shamir.ElementSize))),
            new Share(x, Shamir.FromBytes(plaintext.AsSpan(HeaderSize + Shamir.ElementSize, Shamir.ElementSize))));
    }

    private static void Header(Span<byte> destination, int sender, int receiver)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, sender);
        BinaryPrimitives.WriteInt32BigEndian(destination[4..], receiver);
    }

    private static byte[] AssociatedData(int sender, int receiver)
    {
        var data = new byte[Label.Length + HeaderSize];
        Label.CopyTo(data, 0);
        Header(data.AsSpan(Label.Length), sender, receiver);
        return data;
    }
}
