using DefenseBench.Core.Data;

namespace DefenseBench.Core.Attacks;

/// <summary>Recovered label counts for one target: a client (index ≥ 0) or the aggregate (<see cref="Aggregate"/>).</summary>
public sealed record LabelRecovery(int Target, int[] Counts)
{
    public const int Aggregate = -1;

    /// <summary>
    /// True for attacks that recover only which classes are present (iDLG, GI, RLG): <see cref="Counts"/> is then 1
    /// for a present class and 0 otherwise, and only existence metrics (LeAcc) are scored.
    /// </summary>
    public bool ExistenceOnly { get; init; }

    /// <summary>The classes recovered as present, ascending.</summary>
    public int[] Present => Enumerable.Range(0, Counts.Length).Where(c => Counts[c] > 0).ToArray();
}

/// <summary>
/// Reconstructed inputs for one target (a client, or <see cref="LabelRecovery.Aggregate"/>): one channel-major pixel
/// array per image, as the attack produced them (not clamped; the scorer clamps to [0, 1]). Plain arrays, so a
/// reconstruction outlives the dispose scope and the device it was computed in.
/// </summary>
public sealed record ImageRecovery(int Target, ImageShape Shape, IReadOnlyList<float[]> Images);

/// <summary>
/// What an attack returns: label recoveries per target, reconstructed inputs per target (image attacks), and named
/// side values (e.g. a learned scale).
/// </summary>
public sealed record AttackOutcome(IReadOnlyList<LabelRecovery> Labels)
{
    public IReadOnlyList<ImageRecovery> Images { get; init; } = [];

    public IReadOnlyDictionary<string, double> Extras { get; init; } = new Dictionary<string, double>();
}
