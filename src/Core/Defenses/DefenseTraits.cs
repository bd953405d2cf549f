namespace DefenseBench.Core.Defenses;

/// <summary>An option whose effect lives in state a client carries across rounds, and its value that keeps none.</summary>
public sealed record StatefulOption(string Parameter, string Stateless);

/// <summary>
/// What the harness needs to know about a defence besides running it, declared in its catalog entry: the options
/// whose effect lives in state carried across rounds (top-k's error feedback), empty in a cell that attacks one upload.
/// </summary>
public sealed record DefenseTraits(IReadOnlyList<StatefulOption> StatefulOptions)
{
    /// <summary>A defence with no state across rounds.</summary>
    public static readonly DefenseTraits Stateless = new([]);
}
