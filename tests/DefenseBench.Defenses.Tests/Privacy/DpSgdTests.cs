using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.Compression;
using DefenseBench.Defenses.Privacy;
using TorchSharp;

namespace DefenseBench.Defenses.Tests.Privacy;

public sealed class DpSgdTests
{
    private static VictimRound Round(Protocol protocol, int batchSize = 8, int clients = 2) =>
        VictimRound.Create(new ScenarioSpec("synthetic-mnist", 10, "dlg-lenet", batchSize, LabelDistribution.Iid, clients, protocol, TrainingStage.Untrained),
            Core.Data.DatasetCatalog.Open("synthetic-mnist"), 0, torch.CPU);

    public static TheoryData<Protocol> Protocols => new() { new FedSgd(), new FedAvg(3, 0.05) };

    [Theory]
    [MemberData(nameof(Protocols))]
    public void With_no_noise_and_an_infinite_clip_uploads_are_bit_identical(Protocol protocol)
    {
        using var scope = torch.NewDisposeScope();
        var round = Round(protocol);

        var plain = round.Uploads();
        var dp = round.Uploads(gradient: DefenseCatalog.DpSgd(double.PositiveInfinity, 0).Gradient(new Rng(1)));

        Assert.All(plain.Zip(dp), p => Assert.True(TestUpdates.BitIdentical(p.First, p.Second)));
    }

    [Fact]
    public void Without_noise_the_upload_is_the_mean_of_the_clipped_example_gradients()
    {
        using var scope = torch.NewDisposeScope();
        var round = Round(new FedSgd(), batchSize: 6, clients: 1);
        var model = round.Model;
        var batch = round.Clients[0].StepBatches[0];
        var parameters = model.parameters().ToArray();

        var upload = round.Uploads(gradient: DefenseCatalog.DpSgd(0.7, 0).Gradient(new Rng(1)))[0];

        var expected = parameters.Select(p => torch.zeros_like(p)).ToArray();
        for (int k = 0; k < 6; k++)
        {
            var g = LocalTraining.MeanLossGradient(model, parameters, new Batch(batch.Images.narrow(0, k, 1), batch.Labels.narrow(0, k, 1)));
            double factor = Math.Min(1, 0.7 / (TestUpdates.Norm(g) + 1e-6));
            for (int i = 0; i < g.Length; i++) expected[i] += g[i] * factor / 6;
        }
        for (int i = 0; i < parameters.Length; i++)
            Assert.True(torch.allclose(upload.Tensors[i], expected[i], rtol: 1e-4, atol: 1e-7), model.ParameterNames[i]);
    }

    [Fact]
    public void The_noise_on_the_mean_has_std_z_times_clip_over_the_batch_size()
    {
        using var scope = torch.NewDisposeScope();
        var round = Round(new FedSgd(), batchSize: 4, clients: 1);

        var clean = round.Uploads(gradient: DefenseCatalog.DpSgd(2.0, 0).Gradient(new Rng(1)))[0];
        var noisy = round.Uploads(gradient: DefenseCatalog.DpSgd(2.0, 1.5).Gradient(new Rng(1)))[0];

        // 13,450 entries: the sample std is within 3 % of σ = 1.5 · 2 / 4 with overwhelming probability.
        double std = TestUpdates.Std(noisy.Tensors.Zip(clean.Tensors, (a, b) => a - b));
        Assert.Equal(1.5 * 2.0 / 4, std, 0.75 * 0.03);
    }

    [Fact]
    public void The_same_stream_gives_the_same_noise()
    {
        using var scope = torch.NewDisposeScope();
        var round = Round(new FedAvg(2, 0.1), clients: 1);

        var first = round.Uploads(gradient: DefenseCatalog.DpSgd(1.0, 1.0).Gradient(new Rng(5)))[0];
        var again = round.Uploads(gradient: DefenseCatalog.DpSgd(1.0, 1.0).Gradient(new Rng(5)))[0];
        var other = round.Uploads(gradient: DefenseCatalog.DpSgd(1.0, 1.0).Gradient(new Rng(6)))[0];

        Assert.True(TestUpdates.BitIdentical(first, again));
        Assert.False(TestUpdates.BitIdentical(first, other));
    }

    [Fact]
    public void An_infinite_clip_with_noise_is_an_input_error()
    {
        var e = Assert.Throws<InputException>(() => DefenseCatalog.DpSgd(double.PositiveInfinity, 0.5));

        Assert.Contains("infinite std", e.Message, StringComparison.Ordinal);
        Assert.Equal("give a finite clip, or z: 0", e.Fix);
    }

    [Fact]
    public void Its_canonical_name_spells_out_clip_and_noise_multiplier()
    {
        Assert.Equal("dpsgd(clip=1,z=0.5)", DefenseCatalog.DpSgd(1, 0.5).Canonical);
        Assert.Equal("dpsgd(clip=inf,z=0)", DefenseCatalog.DpSgd(double.PositiveInfinity, 0).Canonical);
        Assert.Equal("dpsgd(clip=1,z=0.5)>topk(keep=0.1,scope=layer,ef=off)",
            DefensePipeline.From([DefenseCatalog.DpSgd(1, 0.5), DefenseCatalog.TopK(0.1, TopKScope.Layer, false)]).Canonical);
    }

    [Fact]
    public void It_must_come_first_in_a_pipeline()
    {
        var e = Assert.Throws<ArgumentException>(() => DefensePipeline.From([DefenseCatalog.TopK(0.1, TopKScope.Layer, false), DefenseCatalog.DpSgd(1, 0.5)]));

        Assert.Contains("must be the first stage", e.Message, StringComparison.Ordinal);
        Assert.NotNull(DefensePipeline.From([DefenseCatalog.DpSgd(1, 0.5), DefenseCatalog.TopK(0.1, TopKScope.Layer, false)]).LocalGradient(new Rng(1)));
        Assert.Null(DefensePipeline.From([DefenseCatalog.TopK(0.1, TopKScope.Layer, false)]).LocalGradient(new Rng(1)));
    }

    [Fact]
    public void Its_sessions_pass_the_finished_upload_through()
    {
        using var scope = torch.NewDisposeScope();
        var upload = TestUpdates.Random(new Rng(3));

        Assert.Same(upload, DefenseCatalog.DpSgd(1, 1).Open(0).Apply(upload, new Rng(1)));
    }

    [Fact]
    public void It_accounts_every_local_step_at_rate_batch_over_client_examples()
    {
        var phase = Assert.Single(DefenseCatalog.DpSgd(1, 1.3).Phases(new TrainingShape(10, 5, 20, 4, 32, 800, 8)));

        Assert.Equal(new GaussianPhase(0.04, 1.3, 80), phase);
        Assert.Equal(1.0, DefenseCatalog.DpSgd(1, 1).Phases(new TrainingShape(1, 1, 1, 1, 64, 64, 8))[0].SampleRate);
    }
}
