using DefenseBench.Core.Federation;

namespace DefenseBench.Core.Attacks;

/// <summary>What an attack must be given; a cell whose view lacks it is recorded not-applicable with the reason.</summary>
[Flags]
public enum AttackNeeds
{
    None = 0,

    /// <summary>Per-client uploads (an aggregate alone is not enough).</summary>
    IndividualUpdates = 1,

    /// <summary>The FC layer's bias gradient.</summary>
    FcBias = 2,

    /// <summary>Auxiliary data from the training distribution.</summary>
    AuxiliaryData = 4,

    /// <summary>
    /// The set of classes present in each target's data, as an assumption of the threat model (simplified iLRG):
    /// the harness lends it from the ground truth, the `attack` command from --classes. Never the counts.
    /// </summary>
    KnownClasses = 8,
}

/// <summary>
/// An attack reads a server view and returns recovered label counts and/or inputs. Implementations are stateless
/// apart from their parameters; randomness comes from <see cref="AttackContext.Rng"/>.
/// </summary>
public interface IAttack
{
    /// <summary>Canonical id, as in matrix files and the CSV (e.g. "llg-plus").</summary>
    string Id { get; }

    AttackNeeds Needs { get; }

    AttackOutcome Run(ServerView view, AttackContext context);
}
