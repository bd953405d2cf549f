using System.Diagnostics;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Running;

/// <summary>
/// Runs one cell for one seed on a shared victim round: client-side defences on the clean uploads, aggregation into
/// the server view, the attack, the score. Failures become a row with status failed and the run goes on.
/// </summary>
public static class CellExecutor
{
    /// <summary>
    /// <paramref name="imageFolder"/>: where a cell with reconstructions writes its picture grid (null: no pictures).
    /// </summary>
    public static CellRow Execute(Cell cell, int seed, VictimRound round, IReadOnlyList<Update> cleanUploads, Device device,
        ScoringOptions? scoring = null, string? imageFolder = null)
    {
        var row = Describe(cell, seed, device);
        using var scope = torch.NewDisposeScope();
        try
        {
            var pipeline = cell.Defense.Create();
            var attack = cell.Attack.Create();
            var defenseRng = Rng.For(round.Seed, "defense", cell.Defense.Canonical);
            using var sessions = pipeline.OpenSessions(round.Clients.Count);
            var uploads = cleanUploads.Select((u, k) => sessions.Apply(k, u, defenseRng)).ToArray();
            var view = pipeline.View(round.Model, uploads, round.Info, defenseRng);
            if (attack.Needs.HasFlag(AttackNeeds.IndividualUpdates) && !view.SeesIndividualUpdates)
                throw new NotApplicableException($"{attack.Id} needs individual uploads and {cell.Defense.Canonical} shows the server only their aggregate");
            // The attack's stream depends on the attack and the victims, not on the defence, so cells that differ only
            // in their defence are paired comparisons.
            var context = new AttackContext(device, Rng.For(round.Seed, "attack", cell.Attack.Canonical),
                new DatasetAuxiliary(round.Dataset, round.Spec.NumClasses));
            var clock = Stopwatch.StartNew();
            var outcome = attack.Run(view, context);
            clock.Stop();
            var (scored, images) = Scoring.Score(row with { Status = CellRow.Ok, AttackMs = clock.Elapsed.TotalMilliseconds }, outcome, round,
                scoring ?? new ScoringOptions());
            if (imageFolder != null && images.Count > 0)
                ReconstructionGrid.Save(Path.Combine(imageFolder, ReconstructionGrid.FileName(cell.Id, seed)), images);
            return scored;
        }
        catch (NotApplicableException e)
        {
            return row with { Status = CellRow.NotApplicable, Error = e.Message };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Failed(row, e);
        }
    }

    /// <summary>The row's identifying columns, before any metric.</summary>
    public static CellRow Describe(Cell cell, int seed, Device device) => new()
    {
        CellId = cell.Id,
        Block = cell.Block,
        Attack = cell.Attack.Id,
        AttackParams = cell.Attack.Parameters,
        Defense = cell.Defense.Canonical,
        Dataset = cell.Scenario.Dataset,
        Model = cell.Scenario.Model,
        BatchSize = cell.Scenario.BatchSize,
        NumClasses = cell.Scenario.NumClasses,
        Labels = cell.Scenario.Labels.Canonical(),
        Clients = cell.Scenario.Clients,
        Protocol = cell.Scenario.Protocol.Canonical,
        Stage = cell.Scenario.Stage.Canonical,
        Mode = cell.Scenario.Mode == ModelMode.Train ? "train" : "eval",
        Seed = seed,
        Device = device.ToString(),
    };

    public static CellRow Failed(CellRow row, Exception e)
    {
        string message = $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ");
        return row with { Status = CellRow.Failed, Error = message.Length > 500 ? message[..500] : message };
    }
}
