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

/// <summary>What an attack returns: label recoveries per target and named side values (e.g. a learned scale).</summary>
public sealed record AttackOutcome(IReadOnlyList<LabelRecovery> Labels)
{
    public IReadOnlyDictionary<string, double> Extras { get; init; } = new Dictionary<string, double>();
}

/// <summary>Thrown when the view or scenario does not give the attack what it needs; the cell records the reason.</summary>
public sealed class NotApplicableException(string reason) : Exception(reason);
