using DefenseBench.Core.Attacks;
using DefenseBench.Core.Data;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Core.Randomness;
using TorchSharp;

namespace DefenseBench.Attacks.Tests.Support;

/// <summary>Runs an attack on the view of one scenario and trial (undefended unless a pipeline is given), as the harness does.</summary>
internal static class AttackRun
{
    public static ScenarioSpec Scenario(int batchSize, LabelDistribution labels, Protocol? protocol = null, string model = "dlg-lenet",
        string dataset = "synthetic-mnist", int clients = 1, ModelMode mode = ModelMode.Train) =>
        new(dataset, DatasetCatalog.Open(dataset).NumClasses, model, batchSize, labels, clients, protocol ?? new FedSgd(), TrainingStage.Untrained, mode);

    /// <summary>Mean ASR over the attack's targets, and the recovered and true counts of the first target.</summary>
    public static (double Asr, int[] Predicted, int[] Truth) Run(IAttack attack, ScenarioSpec spec, int trial, DefensePipeline? pipeline = null)
    {
        var (outcome, truths) = Outcome(attack, spec, trial, pipeline);
        var asr = outcome.Labels.Average(l => LabelMetrics.Asr(l.Counts, truths[l.Target]));
        return (asr, outcome.Labels[0].Counts, truths[outcome.Labels[0].Target]);
    }

    /// <summary>
    /// The attack's outcome and every client's true counts. Attacks that need the present classes get them from the
    /// ground truth, as the harness lends them.
    /// </summary>
    public static (AttackOutcome Outcome, int[][] Truths) Outcome(IAttack attack, ScenarioSpec spec, int trial, DefensePipeline? pipeline = null)
    {
        pipeline ??= DefensePipeline.None;
        using var scope = torch.NewDisposeScope();
        var dataset = DatasetCatalog.Open(spec.Dataset);
        var round = VictimRound.Create(spec, dataset, trial, torch.CPU);
        var truths = round.Clients.Select(c => c.TrueCounts).ToArray();
        // Defended as the harness defends a cell: the local-gradient rule, then each client's sessions, then the view.
        var defenseRng = new Rng(1);
        var computed = round.Uploads(gradient: pipeline.LocalGradient(defenseRng));
        using var sessions = pipeline.OpenSessions(round.Clients.Count);
        var view = pipeline.View(round.Model, computed.Select((u, k) => sessions.Apply(k, u, defenseRng)).ToArray(), round.Info, defenseRng);
        var context = new AttackContext(torch.CPU, Rng.For(round.Seed, "attack"), new DatasetAuxiliary(dataset, spec.NumClasses),
            target => Enumerable.Range(0, spec.NumClasses).Where(c => truths[target][c] > 0).ToArray());
        return (attack.Run(view, context), truths);
    }
}
