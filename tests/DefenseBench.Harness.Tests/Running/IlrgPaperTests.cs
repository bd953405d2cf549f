using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Running;
using DefenseBench.Harness.Tests.Support;
using TorchSharp;

namespace DefenseBench.Harness.Tests.Running;

/// <summary>
/// The CI-sized part of matrices/ilrg-paper.yaml, run with two seeds: the B = 24 table and the ends of the LeNet-5
/// batch sweep. FCN-3's rows read the MNIST sample when it is there and synthetic MNIST otherwise (CI), and the
/// anchors below hold on both. The full run's numbers are in the issue notes.
/// </summary>
public sealed class IlrgPaperTests
{
    private static readonly Lazy<IReadOnlyList<CellRow>> Rows = new(Run);

    private static IReadOnlyList<CellRow> Run()
    {
        // Validation opens every dataset, so the sample is named by its folder here (or replaced) before parsing.
        string path = Repository.File("matrices", "ilrg-paper.yaml"), folder = Repository.File("data", "mnist-sample");
        string mnist = File.Exists(Path.Combine(folder, "0.json")) ? $"mnist-sample:{folder}" : "synthetic-mnist";
        var matrix = MatrixLoader.Parse(File.ReadAllText(path).Replace("dataset: mnist-sample", $"dataset: {mnist}", StringComparison.Ordinal), path);
        var cells = matrix.Cells
            .Where(c => c.Block.StartsWith("table-", StringComparison.Ordinal) || (c.Block == "lenet5-cifar100-batch" && c.Scenario.BatchSize is 32 or 256))
            .ToArray();
        var rows = new List<CellRow>();
        foreach (var group in cells.GroupBy(c => c.Scenario.Canonical))
            foreach (int seed in new[] { 0, 1 })
            {
                using var scope = torch.NewDisposeScope();
                var spec = group.First().Scenario;
                var round = VictimRound.Create(spec, DatasetCatalog.Open(spec.Dataset), seed, torch.CPU);
                var clean = round.Uploads();
                rows.AddRange(group.Select(cell => CellExecutor.Execute(cell, seed, round, clean, torch.CPU)));
            }
        return rows;
    }

    private static double Mean(string block, string model, int batch, string attack, Func<CellRow, double?> metric)
    {
        var values = Rows.Value.Where(r => r.Block == block && r.Model == model && r.BatchSize == batch && r.Attack == attack).ToArray();
        Assert.NotEmpty(values);
        Assert.All(values, r => Assert.Equal(CellRow.Ok, r.Status));
        return values.Average(r => metric(r)!.Value);
    }

    [Theory]
    [InlineData("table-fcn3-mnist", "fcn3")]
    [InlineData("table-lenet-cifar100", "lenet5")]
    [InlineData("table-lenet-cifar100", "lenet5-silu")]
    [InlineData("table-lenet-cifar100", "lenet5-leaky")]
    public void Ilrg_recovers_every_count_at_batch_24(string block, string model)
    {
        Assert.Equal(1.0, Mean(block, model, 24, "ilrg", r => r.LeAcc));
        Assert.True(Mean(block, model, 24, "ilrg", r => r.LnAcc) >= 0.99);
    }

    [Fact]
    public void On_fcn3_gi_and_rlg_find_the_classes_and_idlg_does_not()
    {
        Assert.True(Mean("table-fcn3-mnist", "fcn3", 24, "gi-label", r => r.LeAcc) >= 0.95);
        Assert.True(Mean("table-fcn3-mnist", "fcn3", 24, "rlg", r => r.LeAcc) >= 0.85);
        Assert.True(Mean("table-fcn3-mnist", "fcn3", 24, "idlg-label", r => r.LeAcc) <= 0.7);
    }

    [Fact]
    public void On_relu_lenet5_every_baseline_finds_the_classes()
    {
        foreach (string attack in new[] { "idlg-label", "gi-label", "rlg" })
            Assert.True(Mean("table-lenet-cifar100", "lenet5", 24, attack, r => r.LeAcc) >= 0.95, attack);
    }

    [Theory]
    [InlineData("lenet5-silu")]
    [InlineData("lenet5-leaky")]
    public void Gi_fails_on_negative_embedding_entries(string model)
    {
        Assert.True(Mean("table-lenet-cifar100", model, 24, "gi-label", r => r.LeAcc) <= 0.4);
    }

    [Fact]
    public void Rlg_collapses_once_the_batch_exceeds_lenet5s_embedding_while_ilrg_keeps_counting()
    {
        Assert.True(Mean("lenet5-cifar100-batch", "lenet5", 32, "rlg", r => r.LeAcc) >= 0.95);
        Assert.True(Mean("lenet5-cifar100-batch", "lenet5", 256, "rlg", r => r.LeAcc) <= 0.3);
        Assert.True(Mean("lenet5-cifar100-batch", "lenet5", 256, "ilrg", r => r.LnAcc) >= 0.95);
    }
}
