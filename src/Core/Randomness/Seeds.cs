using System.Security.Cryptography;
using System.Text;

namespace DefenseBench.Core.Randomness;

/// <summary>Stable seed derivation: a seed depends only on its parts, never on what ran before it.</summary>
public static class Seeds
{
    public static ulong Derive(ulong seed, params object[] parts)
    {
        var text = new StringBuilder(seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (object part in parts)
            text.Append('\u001f').Append(Convert.ToString(part, System.Globalization.CultureInfo.InvariantCulture));
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()), hash);
        return BitConverter.ToUInt64(hash[..8]);
    }

    /// <summary>A seed from a string alone (e.g. a scenario's canonical description).</summary>
    public static ulong FromText(string text) => Derive(0, text);
}
