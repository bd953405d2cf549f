using System.Diagnostics;
using DefenseBench.Attacks.Common;
using DefenseBench.Attacks.Reconstruction;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using DefenseBench.Harness.Audit;
using DefenseBench.Defenses.Privacy;
using DefenseBench.Harness.Utility;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Running;

/// <summary>
/// Runs one cell for one seed on a shared victim round: the clients' uploads (recomputed when the pipeline replaces the
/// clients' gradients, as DP-SGD does), client-side defences, aggregation into the server view, the attack, the score;
/// then bytes on the wire, the defence's utility (a FedAvg training shared by every cell of the same defence and
/// settings) and its ε. Failures become a row with status failed and the run goes on.
/// </summary>
public static class CellExecutor
{
    /// <param name="exportFolder">when given, the last layers a label attack read are written there (run --export-updates)</param>
    /// <param name="imageFolder">where a cell with reconstructions writes its picture grid (null: no pictures)</param>
    /// <param name="sessionsAtRound">for a cell at round R > 0: the clients' defence sessions as the training left them
    /// after round R (forks, which the attacked round may change); <paramref name="round"/> then faces the model of round R.
    /// Null: fresh sessions (round 0).</param>
    public static CellRow Execute(Cell cell, int seed, VictimRound round, IReadOnlyList<Update> cleanUploads, Device device,
        UtilityCache? utility = null, string? exportFolder = null, ScoringOptions? scoring = null, string? imageFolder = null,
        Func<PipelineSessions>? sessionsAtRound = null)
    {
        var described = Describe(cell, seed, device);
        using var scope = torch.NewDisposeScope();
        return Guard(described, () =>
        {
            var attempt = Prepare(cell, seed, round, cleanUploads, device, sessionsAtRound);
            long start = Stopwatch.GetTimestamp();
            var outcome = attempt.Attack.Run(attempt.View, attempt.Context);
            var attackTime = attempt.Crafting + Stopwatch.GetElapsedTime(start);
            return Finish(attempt, described, outcome, attackTime, utility, exportFolder, scoring, imageFolder);
        });
    }

    /// <summary>
    /// One reconstruction cell on the victims of several seeds, its attack solving every seed's view in one call
    /// (<see cref="ReconstructionAttack.RunMany"/>; the engine's caps split a large set): a row per seed, in the order given,
    /// each what <see cref="Execute"/> gives that seed within the engine's numerical tolerance. A seed whose preparation or
    /// view fails gets that failure in its own row only; when the batched call fails as a whole, every seed is run alone,
    /// so the failure lands in the rows of the seeds that cause it. attack_ms of a batched row is the batch's attack time
    /// divided evenly between its seeds (README.md, "The CSV contract").
    /// </summary>
    public static CellRow[] ExecuteMany(Cell cell, IReadOnlyList<SeedVictims> seeds, Device device, UtilityCache? utility = null,
        string? exportFolder = null, ScoringOptions? scoring = null, string? imageFolder = null) =>
        ExecuteMany(cell, seeds, device, (attack, runs) => attack.RunMany(runs), utility, exportFolder, scoring, imageFolder);

    /// <param name="solve">the batched attack call (tests replace it to make one view, or the whole call, fail)</param>
    internal static CellRow[] ExecuteMany(Cell cell, IReadOnlyList<SeedVictims> seeds, Device device,
        Func<ReconstructionAttack, IReadOnlyList<(ServerView, AttackContext)>, IReadOnlyList<ViewOutcome>> solve, UtilityCache? utility = null,
        string? exportFolder = null, ScoringOptions? scoring = null, string? imageFolder = null)
    {
        using var scope = torch.NewDisposeScope();
        var rows = new CellRow[seeds.Count];
        var prepared = new List<(int Index, Attempt Attempt)>();
        for (int i = 0; i < seeds.Count; i++)
        {
            var (seed, round, clean) = seeds[i];
            Attempt? attempt = null;
            // The described row stands until the seed's outcome is scored; a failure to prepare replaces it now.
            var described = Describe(cell, seed, device);
            rows[i] = Guard(described, () =>
            {
                attempt = Prepare(cell, seed, round, clean, device, null);
                return described;
            });
            if (attempt != null) prepared.Add((i, attempt));
        }
        if (prepared.Count == 0) return rows;
        var attack = prepared[0].Attempt.Attack as ReconstructionAttack
                     ?? throw new InvalidOperationException($"{cell.Attack.Id} is not a reconstruction attack: its seeds run one by one");
        long start = Stopwatch.GetTimestamp();
        IReadOnlyList<ViewOutcome> outcomes;
        try
        {
            outcomes = solve(attack, prepared.Select(p => (p.Attempt.View, p.Attempt.Context)).ToArray());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The attack's streams were drawn from; each seed starts again from its own, as a run without batching would.
            foreach (var (i, _) in prepared)
                rows[i] = Execute(cell, seeds[i].Seed, seeds[i].Round, seeds[i].CleanUploads, device, utility, exportFolder, scoring, imageFolder);
            return rows;
        }
        var share = Stopwatch.GetElapsedTime(start) / prepared.Count;
        for (int j = 0; j < prepared.Count; j++)
        {
            var (i, attempt) = prepared[j];
            var described = rows[i];
            rows[i] = Guard(described, () => Finish(attempt, described, outcomes[j].Get(), attempt.Crafting + share, utility, exportFolder, scoring, imageFolder));
        }
        return rows;
    }

    /// <summary>What the attack of one cell and seed faces: the uploads after the defence, the server view, the attack's context.</summary>
    private sealed record Attempt(Cell Cell, int Seed, VictimRound Round, DefensePipeline Pipeline, IAttack Attack, Update[] Uploads, ServerView View,
        AttackContext Context, TimeSpan Crafting);

    /// <summary>The clients' uploads, the client-side defences and aggregation into the server view, up to the attack.</summary>
    private static Attempt Prepare(Cell cell, int seed, VictimRound round, IReadOnlyList<Update> cleanUploads, Device device,
        Func<PipelineSessions>? sessionsAtRound)
    {
        var pipeline = cell.Defense.Create();
        var attack = cell.Attack.Create();
        var clock = new Stopwatch();
        var defenseRng = Rng.For(round.Seed, "defense", cell.Defense.Canonical);
        var (sent, computed) = ClientUploads(attack, cell, round, cleanUploads, pipeline.LocalGradient(defenseRng), clock);
        using var sessions = sessionsAtRound?.Invoke() ?? pipeline.OpenSessions(round.Clients.Count);
        var uploads = computed.Select((u, k) => sessions.Apply(k, u, defenseRng,
            new UploadOrigin(k, cell.Round, round.Clients[k].BatchSize, round.Spec.Protocol))).ToArray();
        var view = pipeline.View(round.Model, uploads, round.Info, defenseRng, sent);
        if (attack.Needs.HasFlag(AttackNeeds.IndividualUpdates) && !view.SeesIndividualUpdates)
            throw new NotApplicableException($"{cell.Attack.Exec?.Canonical ?? attack.Id} needs individual uploads and {cell.Defense.Canonical} shows the server only their aggregate");
        // The attack's stream depends on the attack and the victims, not on the defence, so cells that differ only
        // in their defence are paired comparisons.
        var context = new AttackContext(device, Rng.For(round.Seed, "attack", cell.Attack.Stream),
            new DatasetAuxiliary(round.Dataset, round.Spec.NumClasses), KnownClasses(attack, round, view.Contributors));
        return new Attempt(cell, seed, round, pipeline, attack, uploads, view, context, clock.Elapsed);
    }

    /// <summary>The attack's outcome scored, its pictures and exported layers written, bytes on the wire, utility and ε.</summary>
    private static CellRow Finish(Attempt attempt, CellRow described, AttackOutcome outcome, TimeSpan attackTime, UtilityCache? utility,
        string? exportFolder, ScoringOptions? scoring, string? imageFolder)
    {
        var (cell, seed, round, pipeline, attack, uploads, view, context, _) = attempt;
        if (exportFolder != null && attack is LabelAttack labelAttack)
            UpdateExport.Write(exportFolder, cell, seed, labelAttack, view, context, outcome);
        var (row, images) = Scoring.Score(described with { Status = CellRow.Ok, AttackMs = attackTime.TotalMilliseconds }, outcome, round,
            scoring ?? new ScoringOptions(), view.Contributors);
        if (imageFolder != null && images.Count > 0)
            ReconstructionGrid.Save(Path.Combine(imageFolder, RunFolder.GridFileName(cell.Id, seed)), images);
        row = row with { WireBytes = uploads.Average(u => (double)WireSize.Bytes(u, pipeline, uploads.Length)) };
        return Costs(row, cell, pipeline, round, utility);
    }

    /// <summary>The row <paramref name="body"/> makes, or the row of its failure: not-applicable with the reason, or failed.</summary>
    private static CellRow Guard(CellRow described, Func<CellRow> body)
    {
        try
        {
            return body();
        }
        catch (NotApplicableException e)
        {
            return described with { Status = CellRow.NotApplicable, Error = e.Message };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A failure after scoring (in the utility training, say) must not leave half a row of metrics behind.
            return Failed(described, e);
        }
    }

    /// <summary>
    /// The classes present in each target, lent from the ground truth only to attacks that declare it as their threat
    /// model's assumption (simplified iLRG); the counts never leave the scorer.
    /// </summary>
    private static Func<int, int[]>? KnownClasses(IAttack attack, VictimRound round, IReadOnlyList<int> contributors) =>
        attack.Needs.HasFlag(AttackNeeds.KnownClasses)
            ? target => Scoring.TrueCounts(round, target, contributors).Select((n, c) => (n, c)).Where(p => p.n > 0).Select(p => p.c).ToArray()
            : null;

    /// <summary>
    /// What the clients train on: the shared clean uploads, or, when the attack is a malicious server that crafts a
    /// model per client, uploads computed on those models (crafting counts as attack time; the clients' work does not).
    /// </summary>
    /// A defence that replaces the local gradient (DP-SGD) has every upload recomputed with it.
    private static (IReadOnlyList<ModelPatch>? Sent, IReadOnlyList<Update> Uploads) ClientUploads(IAttack attack, Cell cell, VictimRound round,
        IReadOnlyList<Update> cleanUploads, LocalGradient? gradient, Stopwatch clock)
    {
        if (attack is not IModelCrafter crafter)
            return (null, gradient == null ? cleanUploads : round.Uploads(gradient: gradient));
        clock.Start();
        var sent = crafter.Craft(round.Model, round.Info, Rng.For(round.Seed, "craft", cell.Attack.Stream));
        clock.Stop();
        return (sent, round.Uploads(sent, gradient));
    }

    /// <summary>
    /// Utility (when the cell asks for training) and ε at the cell's δ. ε describes the utility training when there is
    /// one, else the attacked round alone.
    /// </summary>
    private static CellRow Costs(CellRow row, Cell cell, DefensePipeline pipeline, VictimRound round, UtilityCache? utility)
    {
        TrainingShape shape = AttackedRound(round, cell.Round);
        if (cell.Utility != null)
        {
            var cache = utility ?? throw new InvalidOperationException("a cell with utility training needs a utility cache");
            var metrics = cache.Measure(round.Dataset, round.Spec, cell.Utility, pipeline);
            row = row with
            {
                UtilityAcc = metrics.Accuracy, UtilityDrop = metrics.Drop, UpdateCosine = metrics.UpdateCosine,
                UtilityDiverged = metrics.DivergedAt + 1,
            };
            shape = metrics.Shape;
        }
        var privacy = PipelinePrivacy.For(pipeline, shape, cell.Delta);
        return privacy == null ? row : row with { Epsilon = privacy.Spent.Epsilon, Delta = privacy.Spent.Delta, Privacy = privacy.Describe() };
    }

    /// <summary>
    /// The attacked round as a training of its own: every client once, U local steps walking its batches of B in a
    /// fixed schedule, nothing sampled: U disjoint batches use each example once, one batch reused U times uses each of
    /// its examples U times (the most-used example sets the count). After <paramref name="trainedRounds"/> rounds of
    /// training every client took part in R + 1 rounds; those draw fresh batches, but ε is stated as if each example
    /// had been in all of them, a bound that holds for every example.
    /// </summary>
    public static TrainingShape AttackedRound(VictimRound round, int trainedRounds = 0)
    {
        var spec = round.Spec;
        bool sameBatch = spec.Protocol is FedAvg { SameBatch: true };
        int distinct = sameBatch ? 1 : spec.Protocol.Steps;
        return new TrainingShape(spec.Clients, spec.Clients, trainedRounds + 1, spec.Protocol.Steps, spec.BatchSize, spec.BatchSize * distinct,
            round.Model.ParameterNames.Count, UsesPerExample: sameBatch ? spec.Protocol.Steps : 1);
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
        Round = cell.Round,
        Seed = seed,
        Device = device.ToString(),
    };

    public static CellRow Failed(CellRow row, Exception e)
    {
        string message = $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ");
        return row with { Status = CellRow.Failed, Error = message.Length > 500 ? message[..500] : message };
    }
}
