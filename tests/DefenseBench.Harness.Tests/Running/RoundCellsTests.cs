using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Running;
using DefenseBench.Harness.Tests.Support;
using DefenseBench.Harness.Training;
using TorchSharp;

namespace DefenseBench.Harness.Tests.Running;

/// <summary>Cells at round R > 0: trained once per (scenario, seed, defence), carried on across rounds, round 0 untouched.</summary>
public sealed class RoundCellsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private static string Block(string round, string attacks = "[llg, {llg-plus: {aux_per_class: 4, repeats: 2}}]",
        string defenses = "[none, {topk: {keep: 0.1, scope: layer, ef: [on, off]}}]") => $"""
        name: rounds
        seeds: 2
        blocks:
          - name: b
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 8
            labels: non-iid
            clients: 2
            protocol: fedsgd
            attacks: {attacks}
            defenses: {defenses}
        {round}
        """;

    private IReadOnlyList<CellRow> Run(string name, string yaml)
    {
        string path = _temp.Write($"{name}.yaml", yaml);
        InProcess.Expect(0, "run", path, "--out", _temp[name], "--device", "cpu");
        return CellsCsv.Read(Path.Combine(_temp[name], CellsCsv.FileName));
    }

    /// <summary>Runs the cells of one scenario and seed as `run` does, returning the rows and what the trainer ran.</summary>
    private static (List<CellRow> Rows, RoundTrainer Trainer) RunGroup(string yaml, int seed = 0)
    {
        var cells = MatrixLoader.Parse(yaml, "m.yaml").Cells.ToArray();
        var rows = new List<CellRow>();
        var trainer = new RoundTrainer();
        Runner.RunGroup(cells, seed, torch.CPU, new HashSet<(string, int)>(), (_, row) => rows.Add(row), trainer: trainer);
        return (rows, trainer);
    }

    [Fact]
    public void Round_zero_rows_are_identical_with_or_without_later_rounds_in_the_run()
    {
        var alone = Run("alone", Block(""));
        var swept = Run("swept", Block("    round: [0, 2]"));

        var zero = swept.Where(r => r.Round == 0).ToList();
        Assert.Equal(alone.Count, zero.Count);
        foreach (var (a, b) in alone.Zip(zero))
        {
            Assert.Equal(a.CellId, b.CellId);
            Assert.Equal(a.Seed, b.Seed);
            Assert.All(CellRow.MetricColumns, m => Assert.Equal(a.Metric(m), b.Metric(m)));
        }
        Assert.Equal(alone.Count, swept.Count(r => r.Round == 2));
        Assert.All(swept, r => Assert.Equal(CellRow.Ok, r.Status));
    }

    [Fact]
    public void Two_attacks_at_one_round_share_one_training_and_a_later_round_carries_it_on()
    {
        var (rows, trainer) = RunGroup(Block("    round: 2", defenses: "[{topk: {keep: 0.1, scope: layer, ef: on}}]"));
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(CellRow.Ok, r.Status));
        Assert.Equal(1, trainer.Trainings);
        Assert.Equal(2, trainer.RoundsRun); // not 4: both attacks read the same trained state

        var (swept, carried) = RunGroup(Block("    round: [1, 3]", defenses: "[{topk: {keep: 0.1, scope: layer, ef: on}}]"));
        Assert.Equal(4, swept.Count);
        Assert.Equal(1, carried.Trainings);
        Assert.Equal(3, carried.RoundsRun); // rounds 1, 2, 3 once: round 3 continues round 1's training
    }

    [Fact]
    public void A_round_reached_through_an_earlier_one_equals_the_round_reached_directly()
    {
        var (direct, _) = RunGroup(Block("    round: 3"));
        var (through, _) = RunGroup(Block("    round: [1, 3]"));

        var atThree = through.Where(r => r.Round == 3).ToDictionary(r => r.CellId);
        Assert.Equal(direct.Count, atThree.Count);
        foreach (var row in direct)
            Assert.All(CellRow.MetricColumns, m => Assert.Equal(row.Metric(m), atThree[row.CellId].Metric(m)));
    }

    [Fact]
    public void Error_feedback_carries_the_withheld_entries_of_earlier_rounds_into_the_attacked_upload()
    {
        var cells = MatrixLoader.Parse(Block("", defenses: "[{topk: {keep: 0.1, scope: layer, ef: [on, off]}}]"), "m.yaml").Cells;
        var spec = cells[0].Scenario;
        using var scope = torch.NewDisposeScope();
        var victims = VictimRound.Create(spec, DatasetCatalog.Open(spec.Dataset, spec.NumClasses), 0, torch.CPU);
        var on = cells.First(c => c.Defense.Canonical.Contains("ef=on", StringComparison.Ordinal)).Defense.Create();
        var off = cells.First(c => c.Defense.Canonical.Contains("ef=off", StringComparison.Ordinal)).Defense.Create();

        foreach (var (pipeline, feedback) in new[] { (on, true), (off, false) })
        {
            using var training = TrainedRound.Start(victims, pipeline);
            training.AdvanceTo(2);
            var clean = training.Victims.Uploads()[0];
            // What top-k alone makes of this round's upload: a fresh session holds no residual.
            using var fresh = pipeline.OpenSessions(spec.Clients);
            var alone = fresh.Apply(0, clean, Core.Randomness.Rng.For(1));
            using var forked = training.ForkSessions();
            var sent = forked.Apply(0, clean, Core.Randomness.Rng.For(1));
            Assert.Equal(!feedback, sent.IdenticalTo(alone));
            if (feedback)
            {
                // The residual reached the upload: entries this round's top-k alone would not send, or sends other values.
                double moved = sent.Tensors.Zip(alone.Tensors).Sum(p => (p.First - p.Second).abs().sum().item<float>());
                Assert.True(moved > 0, "the round-3 upload under error feedback equals top-k of the round's own update");
            }
            // A fork leaves the trained state as it was: a second fork defends the round the same way.
            using var again = training.ForkSessions();
            Assert.True(again.Apply(0, clean, Core.Randomness.Rng.For(1)).IdenticalTo(sent));
        }
        // The victims' own model is not trained: round 0 still attacks the model the stage left.
        Assert.True(victims.Uploads()[0].IdenticalTo(VictimRound.Create(spec, DatasetCatalog.Open(spec.Dataset, spec.NumClasses), 0, torch.CPU).Uploads()[0]));
    }

    [Fact]
    public void Ef_on_and_ef_off_leak_differently_after_training_and_alike_at_round_zero()
    {
        var (rows, _) = RunGroup(Block("    round: [0, 2]", attacks: "[llg]", defenses: "[{topk: {keep: 0.1, scope: layer, ef: [on, off]}}]"));
        double? Asr(int round, string ef) => rows.Single(r => r.Round == round && r.Defense.Contains(ef, StringComparison.Ordinal)).Asr;

        Assert.Equal(Asr(0, "ef=on"), Asr(0, "ef=off"));
        Assert.NotEqual(Asr(2, "ef=on"), Asr(2, "ef=off"));
    }

    [Fact]
    public void Fishing_and_dlm_run_on_a_round_reached_by_training()
    {
        var rows = Run("malicious", """
            name: malicious
            seeds: 1
            blocks:
              - name: fishing
                dataset: synthetic-mnist
                model: lenet5-bn
                batch_size: 4
                labels: non-iid
                clients: 3
                round: [0, 2]
                attacks: [fishing]
                defenses: [{secagg: {max_weight: 4}}]
              - name: dlm
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: 1
                protocol: {fedavg: {steps: 1, lr: 0.01}}
                round: [0, 2]
                attacks: [{dlm: {iterations: 2}}]
                defenses: [none]
            """);

        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => Assert.Equal(CellRow.Ok, r.Status));
        var fishing = rows.Where(r => r.Attack == "fishing").OrderBy(r => r.Round).ToList();
        Assert.Equal([0, 2], fishing.Select(r => r.Round));
        Assert.All(fishing, r => Assert.NotNull(r.LnAcc));
        var dlm = rows.Where(r => r.Attack == "dlm").OrderBy(r => r.Round).ToList();
        Assert.All(dlm, r => Assert.NotNull(r.Psnr));
        // The round-2 reconstruction matches uploads of another model: it cannot score exactly as at round 0.
        Assert.NotEqual(dlm[0].Mse, dlm[1].Mse);
    }

    public void Dispose() => _temp.Dispose();
}
