using DefenseBench.Attacks.Reconstruction;
using DefenseBench.Core.Federation;
using DefenseBench.Harness.Matrix;

namespace DefenseBench.Harness.Running;

/// <summary>The victims of one scenario and seed, built once for every cell of the scenario: the round and the clients' clean uploads.</summary>
public sealed record SeedVictims(int Seed, VictimRound Round, IReadOnlyList<Update> CleanUploads)
{
    /// <summary>
    /// Seeds whose victims the runner holds at once for a batched reconstruction cell: no more than the engine solves in
    /// one problem set (<see cref="MatchSettings.DefaultMaxProblems"/> problems; more seeds would be split there anyway).
    /// </summary>
    public const int MaxBatch = MatchSettings.DefaultMaxProblems;

    /// <summary>
    /// Bytes of victims held at once: a batch closes once its seeds reach this, so big models batch fewer seeds (a
    /// ResNet-18's model and one client's upload are about 90 MB a seed; a DLG LeNet's well under 1 MB).
    /// </summary>
    public const long MaxBatchBytes = 1L << 30;

    /// <summary>What these victims hold in tensors: the model's parameters, the clean uploads and every client's batches.</summary>
    public long Bytes =>
        Round.Model.parameters().Sum(p => p.NumberOfElements * p.ElementSize)
        + CleanUploads.Sum(u => u.Tensors.Sum(t => t.NumberOfElements * t.ElementSize))
        + Round.Clients.SelectMany(c => c.StepBatches.Distinct()).Sum(b => b.Images.NumberOfElements * b.Images.ElementSize);

    /// <summary>Whether the runner solves the seeds of <paramref name="cell"/> together (a reconstruction attack at round 0).</summary>
    public static bool Batches(Cell cell) => cell.Round == 0 && cell.Attack.Exec == null && cell.Attack.Create() is ReconstructionAttack;
}
