using System.Globalization;
using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Sharding;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/>, numbered from 0 as Kubernetes' JOB_COMPLETION_INDEX and a Slurm
/// array --array=0-(n-1) number them. An unsharded run is shard 0/1.
/// </summary>
public sealed record ShardSpec(int Index, int Count)
{
    public static readonly ShardSpec Whole = new(0, 1);

    public bool IsWhole => Count == 1;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");

    /// <summary>Parses "i/n" (0 ≤ i &lt; n); anything else is an input error that says what to write.</summary>
    public static ShardSpec Parse(string text)
    {
        const string fix = "write --shard i/n with shards numbered from 0, e.g. --shard 0/4 ... --shard 3/4";
        string[] parts = text.Trim().Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count))
            throw new InputException($"--shard '{text}' is not of the form i/n", fix);
        if (count < 1) throw new InputException($"--shard {text}: the shard count must be at least 1", fix);
        if (index >= count) throw new InputException($"--shard {text}: the index must be in 0..{count - 1}", fix);
        return new ShardSpec(index, count);
    }
}
