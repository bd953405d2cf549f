using DefenseBench.Core.Attacks;
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

    private const string DropoutYaml = """
        name: dropout
        seeds: 1
        blocks:
          - name: b
            dataset: synthetic-mnist
            model: lenet5-bn
            batch_size: 8
            labels: non-iid
            clients: 5
            attacks: [llg, fishing]
            defenses: [{secagg: {max_weight: 8, dropout: 0.2, dropout_phase: mask}}]
        """;

    [Fact]
    public void A_client_that_drops_out_of_secure_aggregation_is_not_scored_and_its_row_says_why()
    {
        var cells = MatrixLoader.Parse(DropoutYaml, "m.yaml").Cells;
        var spec = cells[0].Scenario;
        using var scope = torch.NewDisposeScope();
        var round = VictimRound.Create(spec, DatasetCatalog.Open(spec.Dataset, spec.NumClasses), 0, torch.CPU);

        var rows = cells.Select(cell => CellExecutor.Execute(cell, 0, round, round.Uploads(), torch.CPU)).ToArray();

        Assert.All(rows, row => Assert.Equal(CellRow.Ok, row.Status));
        Assert.All(rows, row => Assert.Matches("^client [0-4] dropped out of secure aggregation .*not scored$", row.Unscored));
        // Fishing splits the survivors' aggregate with the survivors' weights: every survivor's counts exactly.
        Assert.Equal(1.0, rows.Single(r => r.Attack == "fishing").LnAcc);
    }

    [Fact]
    public void The_truth_behind_an_aggregate_is_the_sum_over_the_clients_it_holds()
    {
        var cell = MatrixLoader.Parse(DropoutYaml, "m.yaml").Cells[0];
        var spec = cell.Scenario;
        using var scope = torch.NewDisposeScope();
        var round = VictimRound.Create(spec, DatasetCatalog.Open(spec.Dataset, spec.NumClasses), 1, torch.CPU);
        int[] survivors = [0, 2, 3, 4];
        var expected = Enumerable.Range(0, spec.NumClasses).Select(c => survivors.Sum(k => round.Clients[k].TrueCounts[c])).ToArray();

        Assert.Equal(expected, Scoring.TrueCounts(round, LabelRecovery.Aggregate, survivors));
        var row = Scoring.ScoreLabels(new CellRow(), new AttackOutcome([new LabelRecovery(LabelRecovery.Aggregate, expected)]), round, survivors);
        Assert.Equal(1.0, row.Asr);
        Assert.Equal("", Scoring.Unscored(round, [0, 1, 2, 3, 4]));
        Assert.Contains("client 1 dropped", Scoring.Unscored(round, survivors));
    }
}
