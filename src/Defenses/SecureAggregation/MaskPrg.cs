using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>
/// The mask generator PRG(seed) of SecAgg (Bonawitz et al. 2017, §4): AES-256 in counter mode, built from the ECB
/// primitive because .NET has no CTR mode. Keystream block i is AES_key(c₀ + i), the counter a 128-bit big-endian
/// integer (c₀ = 0 for masks), as NIST SP 800-38A specifies CTR. Residues mod R are read from consecutive
/// little-endian words of the keystream (32-bit when R ≤ 2^32, else 64-bit) by rejection sampling, so every residue
/// is exactly uniform; never a general-purpose generator seeded from the key (Flower's Mersenne-Twister shortcut).
/// </summary>
public sealed class MaskPrg : IDisposable
{
    public const int KeySize = 32;
    private const int BlockSize = 16;
    private const int ChunkBlocks = 4096;

    private readonly Aes _aes;
    private readonly byte[] _counters = new byte[ChunkBlocks * BlockSize];
    private readonly byte[] _keystream = new byte[ChunkBlocks * BlockSize];
    private UInt128 _counter;
    private int _position;

    public MaskPrg(ReadOnlySpan<byte> key, UInt128 firstCounter = default)
    {
        if (key.Length != KeySize) throw new ArgumentException($"the PRG key must be {KeySize} bytes, got {key.Length}", nameof(key));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("mask residues are read as little-endian words");
        _aes = Aes.Create();
        _aes.Key = key.ToArray();
        _counter = firstCounter;
        _position = _keystream.Length;
    }

    public void Dispose() => _aes.Dispose();

    /// <summary>The next <c>destination.Length</c> keystream bytes.</summary>
    public void Keystream(Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            if (_position == _keystream.Length) Refill();
            int n = Math.Min(destination.Length, _keystream.Length - _position);
            _keystream.AsSpan(_position, n).CopyTo(destination);
            _position += n;
            destination = destination[n..];
        }
    }

    /// <summary>
    /// target ← target ± (the next <c>target.Length</c> uniform residues mod R). Adding and subtracting the same seed's
    /// masks cancel exactly, which the pairwise masks with opposite signs rely on.
    /// </summary>
    public void Mask(Span<ulong> target, Modulus modulus, bool subtract = false)
    {
        // Accept a word w only below ⌊2^bits / R⌋·R, so each residue has exactly ⌊2^bits / R⌋ preimages.
        ulong r = modulus.R;
        if (r <= 1UL << 32) MaskFrom<uint>(target, modulus, subtract, maxAccepted: (1UL << 32) - (1UL << 32) % r - 1);
        else MaskFrom<ulong>(target, modulus, subtract, maxAccepted: ulong.MaxValue - (ulong.MaxValue % r + 1) % r);
    }

    /// <summary>The next <paramref name="count"/> residues, for tests and known answers.</summary>
    public ulong[] Residues(int count, Modulus modulus)
    {
        var values = new ulong[count];
        Mask(values, modulus);
        return values;
    }

    private void MaskFrom<TWord>(Span<ulong> target, Modulus modulus, bool subtract, ulong maxAccepted)
        where TWord : unmanaged, IBinaryInteger<TWord>, IUnsignedNumber<TWord>
    {
        int size = Unsafe.SizeOf<TWord>();
        ulong r = modulus.R, low = r - 1;
        bool pow2 = modulus.IsPowerOfTwo;
        int i = 0;
        while (i < target.Length)
        {
            if (_position > _keystream.Length - size) Refill();
            var words = MemoryMarshal.Cast<byte, TWord>(_keystream.AsSpan(_position));
            int used = 0;
            for (; used < words.Length && i < target.Length; used++)
            {
                ulong w = ulong.CreateTruncating(words[used]);
                if (w > maxAccepted) continue;
                ulong v = pow2 ? w & low : w % r;
                target[i] = subtract ? modulus.Subtract(target[i], v) : modulus.Add(target[i], v);
                i++;
            }
            _position += used * size;
        }
    }

    private void Refill()
    {
        var counters = _counters.AsSpan();
        for (int j = 0; j < ChunkBlocks; j++)
        {
            var block = counters.Slice(j * BlockSize, BlockSize);
            BinaryPrimitives.WriteUInt64BigEndian(block, (ulong)(_counter >> 64));
            BinaryPrimitives.WriteUInt64BigEndian(block[8..], (ulong)_counter);
            _counter++;
        }
        _aes.EncryptEcb(_counters, _keystream, PaddingMode.None);
        _position = 0;
    }
}
