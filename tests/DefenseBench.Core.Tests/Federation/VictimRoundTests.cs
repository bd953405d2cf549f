using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Tests.Federation;

public sealed class VictimRoundTests
{
    private static readonly IImageDataset Data = DatasetCatalog.Open("synthetic-mnist");

    private static ScenarioSpec Spec(Protocol? protocol = null, int clients = 1, int batchSize = 8,
        LabelDistribution labels = LabelDistribution.NonIid, TrainingStage? stage = null) =>
        new("synthetic-mnist", 10, "dlg-lenet", batchSize, labels, clients, protocol ?? new FedSgd(), stage ?? TrainingStage.Untrained);

    private static VictimRound Round(ScenarioSpec spec, int trial = 0) => VictimRound.Create(spec, Data, trial, torch.CPU);

    private static long[] Labels(Batch batch) => batch.Labels.data<long>().ToArray();

    private static bool SameUpdate(Update a, Update b) =>
        a.Names.SequenceEqual(b.Names) && a.Tensors.Zip(b.Tensors).All(p => Same(p.First, p.Second));

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void The_same_scenario_and_trial_give_identical_victims()
    {
        using var scope = torch.NewDisposeScope();
        var spec = Spec(new FedAvg(2, 0.1), clients: 2, stage: new TrainingStage(2, BatchSize: 4));
        var a = Round(spec, 3);
        var b = Round(spec, 3);

        Assert.Equal(a.Seed, b.Seed);
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(a.Clients[k].TrueCounts, b.Clients[k].TrueCounts);
            for (int step = 0; step < 2; step++)
            {
                Assert.Equal(Labels(a.Clients[k].StepBatches[step]), Labels(b.Clients[k].StepBatches[step]));
                Assert.True(Same(a.Clients[k].StepBatches[step].Images, b.Clients[k].StepBatches[step].Images));
            }
        }
        Assert.Equal(a.Model.ParameterNames, b.Model.ParameterNames);
        foreach (var (p, q) in a.Model.parameters().Zip(b.Model.parameters())) Assert.True(Same(p, q));
    }

    [Fact]
    public void A_different_trial_gives_different_labels_and_model()
    {
        using var scope = torch.NewDisposeScope();
        var a = Round(Spec(batchSize: 16, labels: LabelDistribution.Iid), 0);
        var b = Round(Spec(batchSize: 16, labels: LabelDistribution.Iid), 1);

        Assert.NotEqual(a.Seed, b.Seed);
        Assert.NotEqual(Labels(a.Clients[0].StepBatches[0]), Labels(b.Clients[0].StepBatches[0]));
        Assert.False(Same(a.Model.Fc.weight!, b.Model.Fc.weight!));
    }

    [Fact]
    public void A_different_scenario_gives_a_different_seed()
    {
        Assert.NotEqual(VictimRound.ScenarioSeed(Spec(batchSize: 8), 0), VictimRound.ScenarioSeed(Spec(batchSize: 16), 0));
        Assert.Equal(VictimRound.ScenarioSeed(Spec(), 0), VictimRound.ScenarioSeed(Spec(), 0));
    }

    [Fact]
    public void Batches_hold_images_of_their_labels()
    {
        using var scope = torch.NewDisposeScope();
        var round = Round(Spec(batchSize: 6));
        var batch = round.Clients[0].StepBatches[0];

        Assert.Equal([6L, 1, 28, 28], batch.Images.shape);
        Assert.Equal(ScalarType.Float32, batch.Images.dtype);
        Assert.Equal(ScalarType.Int64, batch.Labels.dtype);
        Assert.Equal(LabelMetrics.Counts(Labels(batch).Select(l => (int)l), 10), round.Clients[0].TrueCounts);
        Assert.Equal(6, round.Clients[0].BatchSize);
    }

    [Fact]
    public void Fedavg_draws_a_new_batch_for_every_local_step()
    {
        using var scope = torch.NewDisposeScope();
        var round = Round(Spec(new FedAvg(3, 0.1)));
        var client = round.Clients[0];

        Assert.Equal(3, client.StepBatches.Count);
        Assert.Equal(8 * 3, client.TrueCounts.Sum());
        Assert.Equal(LabelMetrics.Counts(client.StepBatches.SelectMany(b => Labels(b)).Select(l => (int)l), 10), client.TrueCounts);
        Assert.False(Same(client.StepBatches[0].Images, client.StepBatches[1].Images));
        Assert.False(Same(client.StepBatches[1].Images, client.StepBatches[2].Images));
        Assert.Equal(24, round.Info.LabelsOf(0));
        Assert.Equal(24, round.Spec.LabelsPerClient);
    }

    [Fact]
    public void Fedavg_with_the_same_batch_reuses_one_batch_for_every_step()
    {
        using var scope = torch.NewDisposeScope();
        var round = Round(Spec(new FedAvg(3, 0.1, SameBatch: true)));
        var client = round.Clients[0];

        Assert.Equal(3, client.StepBatches.Count);
        for (int step = 1; step < 3; step++)
        {
            Assert.Equal(Labels(client.StepBatches[0]), Labels(client.StepBatches[step]));
            Assert.True(Same(client.StepBatches[0].Images, client.StepBatches[step].Images));
        }
        Assert.Equal(8 * 3, client.TrueCounts.Sum());
        Assert.Equal(LabelMetrics.Counts(Labels(client.StepBatches[0]).Select(l => (int)l), 10).Select(c => 3 * c), client.TrueCounts);
    }

    [Fact]
    public void Two_clients_get_different_data()
    {
        using var scope = torch.NewDisposeScope();
        var round = Round(Spec(clients: 2, batchSize: 16));

        Assert.Equal(2, round.Clients.Count);
        Assert.False(Same(round.Clients[0].StepBatches[0].Images, round.Clients[1].StepBatches[0].Images));
        Assert.NotEqual(Labels(round.Clients[0].StepBatches[0]), Labels(round.Clients[1].StepBatches[0]));
        Assert.Equal([16, 16], round.Info.BatchSizes);
        Assert.Equal(32, round.Info.TotalLabels);
    }

    [Fact]
    public void Uploads_are_named_after_the_model_parameters()
    {
        using var scope = torch.NewDisposeScope();
        var sgd = Round(Spec(clients: 2));
        var avg = Round(Spec(new FedAvg(2, 0.1)));

        var gradients = sgd.Uploads();
        var deltas = avg.Uploads();

        Assert.Equal(2, gradients.Count);
        Assert.All(gradients, u => Assert.Equal(sgd.Model.ParameterNames, u.Names));
        Assert.All(gradients, u => Assert.Equal(UpdateKind.Gradient, u.Kind));
        Assert.Equal(avg.Model.ParameterNames, Assert.Single(deltas).Names);
        Assert.Equal(UpdateKind.WeightDelta, deltas[0].Kind);
        foreach (var (name, p) in sgd.Model.named_parameters()) Assert.Equal(p.shape, gradients[0][name].shape);
        Assert.False(Same(gradients[0][Classifier.FcBias], gradients[1][Classifier.FcBias]));
    }

    [Fact]
    public void Uploads_can_use_a_model_chosen_per_client()
    {
        using var scope = torch.NewDisposeScope();
        var round = Round(Spec(clients: 2));
        var other = ModelCatalog.Create("dlg-lenet", Data.Shape, 10, 99, torch.CPU);

        var uploads = round.Uploads(k => k == 1 ? other : round.Model);
        var plain = round.Uploads();

        Assert.True(SameUpdate(uploads[0], plain[0]));
        Assert.False(SameUpdate(uploads[1], plain[1]));
    }

    [Fact]
    public void Uploads_can_use_a_patch_per_client_and_leave_the_model_unchanged()
    {
        using var scope = torch.NewDisposeScope();
        var round = Round(Spec(clients: 2));
        var bias = round.Model.Fc.bias!.detach().clone();
        var patches = new[]
        {
            new ModelPatch(new Dictionary<string, Tensor>()),
            new ModelPatch(new Dictionary<string, Tensor> { [Classifier.FcBias] = torch.full(10, 5.0f) }),
        };

        var uploads = round.Uploads(patches);
        var plain = round.Uploads();

        Assert.True(SameUpdate(uploads[0], plain[0]));
        Assert.False(SameUpdate(uploads[1], plain[1]));
        Assert.True(Same(bias, round.Model.Fc.bias!));
    }

    [Fact]
    public void Eval_mode_scenarios_leave_the_model_in_eval_mode()
    {
        using var scope = torch.NewDisposeScope();
        var round = VictimRound.Create(Spec() with { Mode = ModelMode.Eval }, Data, 0, torch.CPU);

        Assert.False(round.Model.training);
        Assert.True(Round(Spec()).Model.training);
    }

    [Fact]
    public void An_epoch_stage_visits_every_training_image_once_per_epoch_in_ceil_n_over_b_steps()
    {
        var stage = TrainingStage.ForEpochs(2, 0.1, 8);
        var steps = VictimRound.StageBatches(stage, 30, new DefenseBench.Core.Randomness.Rng(5)).ToArray();

        Assert.Equal(stage.StepsFor(30), steps.Length);
        Assert.Equal(8, steps.Length);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var seen = steps.Skip(4 * epoch).Take(4).SelectMany(b => b).ToArray();
            Assert.Equal(Enumerable.Range(0, 30), seen.Order());
            Assert.Equal([8, 8, 8, 6], steps.Skip(4 * epoch).Take(4).Select(b => b.Length));
        }
        Assert.NotEqual(steps[0], steps[4]);
    }

    [Fact]
    public void Stage_names_keep_their_step_form_and_spell_out_epochs()
    {
        Assert.Equal("untrained", TrainingStage.Untrained.Canonical);
        Assert.Equal("untrained", TrainingStage.ForEpochs(0).Canonical);
        Assert.Equal("steps=100,lr=0.1,batch=32", new TrainingStage(100).Canonical);
        Assert.Equal("epochs=10,lr=0.05,batch=128", TrainingStage.ForEpochs(10, 0.05, 128).Canonical);
        Assert.Equal(100, new TrainingStage(100).StepsFor(50_000));
    }

    [Fact]
    public void A_trained_stage_changes_the_model_the_victims_see()
    {
        using var scope = torch.NewDisposeScope();
        var tiny = new SyntheticImages("tiny", ImageShape.Mnist, 10, 3, 1);
        var untrained = VictimRound.Create(Spec(), tiny, 0, torch.CPU);
        var trained = VictimRound.Create(Spec(stage: TrainingStage.ForEpochs(1, 0.1, 8)), tiny, 0, torch.CPU);

        Assert.False(Same(untrained.Model.Fc.weight!, trained.Model.Fc.weight!));
        Assert.NotEqual(untrained.Seed, trained.Seed);
    }
}
