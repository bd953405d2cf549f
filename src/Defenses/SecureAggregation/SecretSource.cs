using System.Security.Cryptography;
using System.Text;

namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>
/// Where the protocol's secrets come from: private keys, self-mask seeds, Shamir coefficients, AEAD nonces.
/// <see cref="System"/> is the operating system's CSPRNG, as a deployment would use; the harness uses it, and the
/// decoded sum does not depend on it because every mask cancels. <see cref="Deterministic"/> expands a fixed seed
/// with the mask PRG, for known-answer and reproducible tests.
/// </summary>
public abstract class SecretSource
{
    public static SecretSource System { get; } = new SystemSource();

    /// <summary>A reproducible source: AES-256-CTR keystream under a 32-byte seed.</summary>
    public static SecretSource Deterministic(ReadOnlySpan<byte> seed) => new DeterministicSource(seed.ToArray());

    /// <summary>A reproducible source from a label (tests).</summary>
    public static SecretSource Deterministic(string label) => Deterministic(SHA256.HashData(Encoding.UTF8.GetBytes(label)));

    public abstract void Fill(Span<byte> destination);

    /// <summary>An independent source for one participant, so clients can run in parallel and stay reproducible.</summary>
    public abstract SecretSource For(int participant);

    public byte[] Bytes(int count)
    {
        var bytes = new byte[count];
        Fill(bytes);
        return bytes;
    }

    private sealed class SystemSource : SecretSource
    {
        public override void Fill(Span<byte> destination) => RandomNumberGenerator.Fill(destination);
        public override SecretSource For(int participant) => this;
    }

    private sealed class DeterministicSource(byte[] seed) : SecretSource
    {
        private readonly MaskPrg _prg = new(seed);

        public override void Fill(Span<byte> destination) => _prg.Keystream(destination);

        public override SecretSource For(int participant) =>
            new DeterministicSource(HKDF.DeriveKey(HashAlgorithmName.SHA256, seed, MaskPrg.KeySize,
                info: Encoding.UTF8.GetBytes($"DefenseBench SecAgg participant {participant}")));
    }
}
