using System.Buffers;
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
    private const int ChunkBytes = ChunkBlocks * BlockSize;

    private readonly Aes _aes;
    // Rented: a round creates a PRG per mask (n·(k + 1) of them), and fresh 64 KB buffers each time load the GC.
    private readonly byte[] _counters = ArrayPool<byte>.Shared.Rent(ChunkBytes);
    private readonly byte[] _keystream = ArrayPool<byte>.Shared.Rent(ChunkBytes);
    private UInt128 _counter;
    private int _position;

    public MaskPrg(ReadOnlySpan<byte> key, UInt128 firstCounter = default)
    {
        if (key.Length != KeySize) throw new ArgumentException($"the PRG key must be {KeySize} bytes, got {key.Length}", nameof(key));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("mask residues are read as little-endian words");
        _aes = Aes.Create();
        _aes.Key = key.ToArray();
        _counter = firstCounter;
        _position = ChunkBytes;
    }

    public void Dispose()
    {
        _aes.Dispose();
        ArrayPool<byte>.Shared.Return(_counters);
        ArrayPool<byte>.Shared.Return(_keystream);
    }

    /// <summary>The next <c>destination.Length</c> keystream bytes.</summary>
    public void Keystream(Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            if (_position == ChunkBytes) Refill();
            int n = Math.Min(destination.Length, ChunkBytes - _position);
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
        if (modulus.IsPowerOfTwo)
        {
            // R divides 2^32 (or 2^64): every word is accepted, its low bits are the residue, and ± mod R is ± mod 2^64
            // followed by a mask. The same values as the general path below, only branch-free and vectorised.
            if (r <= 1UL << 32) MaskPowerOfTwo<uint>(target, r - 1, subtract);
            else MaskPowerOfTwo<ulong>(target, r - 1, subtract);
        }
        else if (r <= 1UL << 32) MaskFrom<uint>(target, modulus, subtract, maxAccepted: (1UL << 32) - (1UL << 32) % r - 1);
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
            if (_position > ChunkBytes - size) Refill();
            var words = MemoryMarshal.Cast<byte, TWord>(_keystream.AsSpan(_position, ChunkBytes - _position));
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

    private void MaskPowerOfTwo<TWord>(Span<ulong> target, ulong low, bool subtract)
        where TWord : unmanaged, IBinaryInteger<TWord>, IUnsignedNumber<TWord>
    {
        int size = Unsafe.SizeOf<TWord>();
        while (target.Length > 0)
        {
            if (_position > ChunkBytes - size) Refill();
            var words = MemoryMarshal.Cast<byte, TWord>(_keystream.AsSpan(_position, ChunkBytes - _position));
            int n = Math.Min(words.Length, target.Length);
            if (size == sizeof(uint)) AddLowBits(target[..n], MemoryMarshal.Cast<TWord, uint>(words[..n]), low, subtract);
            else AddLowBits(target[..n], MemoryMarshal.Cast<TWord, ulong>(words[..n]), low, subtract);
            _position += n * size;
            target = target[n..];
        }
    }

    /// <summary>target[i] ← (target[i] ± words[i]) mod 2^k, with low = 2^k − 1.</summary>
    private static void AddLowBits(Span<ulong> target, ReadOnlySpan<uint> words, ulong low, bool subtract)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var mask = new Vector<ulong>(low);
            int half = Vector<ulong>.Count;
            for (; i <= words.Length - Vector<uint>.Count; i += Vector<uint>.Count)
            {
                Vector.Widen(new Vector<uint>(words[i..]), out var first, out var second);
                var a = new Vector<ulong>(target[i..]);
                var b = new Vector<ulong>(target[(i + half)..]);
                ((subtract ? a - first : a + first) & mask).CopyTo(target[i..]);
                ((subtract ? b - second : b + second) & mask).CopyTo(target[(i + half)..]);
            }
        }
        for (; i < words.Length; i++) target[i] = (subtract ? target[i] - words[i] : target[i] + words[i]) & low;
    }

    private static void AddLowBits(Span<ulong> target, ReadOnlySpan<ulong> words, ulong low, bool subtract)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var mask = new Vector<ulong>(low);
            for (; i <= words.Length - Vector<ulong>.Count; i += Vector<ulong>.Count)
            {
                var a = new Vector<ulong>(target[i..]);
                var w = new Vector<ulong>(words[i..]);
                ((subtract ? a - w : a + w) & mask).CopyTo(target[i..]);
            }
        }
        for (; i < words.Length; i++) target[i] = (subtract ? target[i] - words[i] : target[i] + words[i]) & low;
    }

    private void Refill()
    {
        var counters = _counters.AsSpan(0, ChunkBytes);
        for (int j = 0; j < ChunkBlocks; j++)
        {
            var block = counters.Slice(j * BlockSize, BlockSize);
            BinaryPrimitives.WriteUInt64BigEndian(block, (ulong)(_counter >> 64));
            BinaryPrimitives.WriteUInt64BigEndian(block[8..], (ulong)_counter);
            _counter++;
        }
        _aes.EncryptEcb(counters, _keystream.AsSpan(0, ChunkBytes), PaddingMode.None);
        _position = 0;
    }
}
