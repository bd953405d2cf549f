using DefenseBench.Core.Attacks;
using DefenseBench.Core.Data;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Core.Randomness;
using TorchSharp;

namespace DefenseBench.Attacks.Tests.LlgFamily;

/// <summary>Runs an attack on the undefended view of one scenario and trial, as the harness does.</summary>
internal static class AttackRun
{
    public static ScenarioSpec Scenario(int batchSize, LabelDistribution labels, Protocol? protocol = null, string model = "dlg-lenet",
        string dataset = "synthetic-mnist", int clients = 1) =>
        new(dataset, DatasetCatalog.Open(dataset).NumClasses, model, batchSize, labels, clients, protocol ?? new FedSgd(), TrainingStage.Untrained);

    /// <summary>Mean ASR over the attack's targets, and the recovered and true counts of the first target.</summary>
    public static (double Asr, int[] Predicted, int[] Truth) Run(IAttack attack, ScenarioSpec spec, int trial)
    {
        using var scope = torch.NewDisposeScope();
        var dataset = DatasetCatalog.Open(spec.Dataset);
        var round = VictimRound.Create(spec, dataset, trial, torch.CPU);
        var view = DefensePipeline.None.View(round.Model, round.Uploads(), round.Info, new Rng(1));
        var outcome = attack.Run(view, new AttackContext(torch.CPU, Rng.For(round.Seed, "attack"), new DatasetAuxiliary(dataset, spec.NumClasses)));
        var asr = outcome.Labels.Average(l => LabelMetrics.Asr(l.Counts, round.Clients[l.Target].TrueCounts));
        return (asr, outcome.Labels[0].Counts, round.Clients[outcome.Labels[0].Target].TrueCounts);
    }
}
