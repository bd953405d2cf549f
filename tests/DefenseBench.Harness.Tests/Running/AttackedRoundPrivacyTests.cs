using DefenseBench.Core.Data;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Defenses;
using DefenseBench.Defenses.Privacy;
using DefenseBench.Harness.Running;
using TorchSharp;

namespace DefenseBench.Harness.Tests.Running;

/// <summary>
/// ε of the attacked round alone: its U local steps walk a fixed schedule of batches, nothing is sampled, so an example
/// used k times composes k Gaussian mechanisms at q = 1 (docs/defences.md).
/// </summary>
public sealed class AttackedRoundPrivacyTests
{
    private static double AttackedRoundEpsilon(int steps, bool sameBatch, double z)
    {
        var spec = new ScenarioSpec("synthetic-mnist", 10, "fcn3", 4, LabelDistribution.Iid, 2, new FedAvg(steps, 0.1, sameBatch),
            TrainingStage.Untrained, ModelMode.Train);
        using var scope = torch.NewDisposeScope();
        var round = VictimRound.Create(spec, DatasetCatalog.Open(spec.Dataset), 0, torch.CPU);
        return PipelinePrivacy.For(DefensePipeline.From([DefenseCatalog.DpSgd(1, z)]), CellExecutor.AttackedRound(round), 1e-5)!.Spent.Epsilon;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(10)]
    public void Disjoint_batches_use_each_example_once_one_gaussian_mechanism_at_q_1(int steps)
    {
        foreach (double z in new[] { 0.5, 1, 2 })
            Assert.Equal(RdpAccountant.Epsilon(1.0, z, 1, 1e-5).Epsilon, AttackedRoundEpsilon(steps, sameBatch: false, z), 9);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(10)]
    public void One_batch_reused_u_times_composes_u_gaussian_mechanisms_at_q_1(int steps) =>
        Assert.Equal(RdpAccountant.Epsilon(1.0, 1, steps, 1e-5).Epsilon, AttackedRoundEpsilon(steps, sameBatch: true, 1), 9);
}
