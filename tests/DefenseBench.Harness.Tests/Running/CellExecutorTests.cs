using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Running;
using TorchSharp;

namespace DefenseBench.Harness.Tests.Running;

public sealed class CellExecutorTests
{
    private const string Yaml = """
        name: one-cell
        seeds: 1
        blocks:
          - name: b
            dataset: synthetic-mnist
            model: fcn3
            batch_size: 4
            attacks: [llg]
            utility: {clients: 2, rounds: 1, local_steps: 1, batch_size: 4, train_images: 40, test_images: 20}
            defenses: [none]
        """;

    [Fact]
    public void A_failure_after_the_attack_was_scored_leaves_no_metric_in_the_failed_row()
    {
        var cell = MatrixLoader.Parse(Yaml, "m.yaml").Cells.Single();
        var spec = cell.Scenario;
        using var scope = torch.NewDisposeScope();
        var round = VictimRound.Create(spec, DatasetCatalog.Open(spec.Dataset, spec.NumClasses), 0, torch.CPU);

        // The cell asks for utility training but no cache is given: the attack runs and is scored, then the utility fails.
        var row = CellExecutor.Execute(cell, 0, round, round.Uploads(), torch.CPU, utility: null);

        Assert.Equal(CellRow.Failed, row.Status);
        Assert.Contains("utility cache", row.Error);
        Assert.All(CellRow.MetricColumns, column => Assert.Null(row.Metric(column)));
        Assert.Null(row.AttackMs);
    }
}
