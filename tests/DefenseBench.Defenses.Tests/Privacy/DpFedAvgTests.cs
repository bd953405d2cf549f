using DefenseBench.Core.Data;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.Privacy;
using TorchSharp;

namespace DefenseBench.Defenses.Tests.Privacy;

public sealed class DpFedAvgTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void With_no_noise_and_an_infinite_clip_the_aggregate_is_the_plain_mean_bit_for_bit(int clients)
    {
        using var scope = torch.NewDisposeScope();
        var rng = new Rng(7);
        var uploads = Enumerable.Range(0, clients).Select(_ => TestUpdates.Random(rng)).ToArray();
        var ones = Enumerable.Repeat(1.0, clients).ToArray();

        var aggregate = DefenseCatalog.DpFedAvg(double.PositiveInfinity, 0).Aggregate(uploads, ones, new Rng(1)).Update;

        Assert.True(TestUpdates.BitIdentical(Aggregation.WeightedMean(uploads, ones), aggregate));
        if (clients == 1) Assert.True(TestUpdates.BitIdentical(uploads[0], aggregate));
    }

    [Fact]
    public void Without_noise_the_aggregate_is_the_equal_weight_mean_of_the_clipped_uploads()
    {
        using var scope = torch.NewDisposeScope();
        var rng = new Rng(8);
        var uploads = Enumerable.Range(0, 3).Select(k => TestUpdates.Random(rng, scale: k + 0.2)).ToArray();

        var aggregate = DefenseCatalog.DpFedAvg(1.5, 0).Aggregate(uploads, [10, 1, 1], new Rng(1)).Update;

        var clipped = uploads.Select(u => Clipping.ToNorm(u, 1.5)).ToArray();
        foreach (var name in aggregate.Names)
            Assert.True(torch.allclose(aggregate[name], (clipped[0][name] + clipped[1][name] + clipped[2][name]) / 3, rtol: 1e-5, atol: 1e-7), name);
    }

    [Fact]
    public void The_noise_on_the_average_has_std_z_times_clip_over_the_number_of_clients()
    {
        using var scope = torch.NewDisposeScope();
        var rng = new Rng(9);
        var uploads = Enumerable.Range(0, 4).Select(_ => TestUpdates.Random(rng, scale: 0.01)).ToArray();
        var ones = Enumerable.Repeat(1.0, 4).ToArray();
        // Large tensors so the sample std is tight.
        var big = uploads.Select(u => new Update(UpdateKind.Gradient, [("w", torch.zeros(200, 100))])).ToArray();

        var noisy = DefenseCatalog.DpFedAvg(3.0, 2.0).Aggregate(big, ones, new Rng(1)).Update;

        Assert.Equal(2.0 * 3.0 / 4, TestUpdates.Std(noisy.Tensors), 1.5 * 0.03);
    }

    [Fact]
    public void The_server_sees_only_the_aggregate()
    {
        using var scope = torch.NewDisposeScope();
        var rng = new Rng(10);
        var uploads = Enumerable.Range(0, 2).Select(_ => TestUpdates.Random(rng)).ToArray();
        var model = ModelCatalog.Create("fcn3", ImageShape.Mnist, 10, 1, torch.CPU);

        var view = DefensePipeline.From([DefenseCatalog.DpFedAvg(1, 1)]).View(model, uploads, new PublicInfo(10, ImageShape.Mnist, new FedSgd(), [4, 4]), new Rng(1));

        Assert.False(view.SeesIndividualUpdates);
    }

    [Fact]
    public void It_accounts_each_round_at_rate_clients_per_round_over_clients()
    {
        var phase = Assert.Single(DefenseCatalog.DpFedAvg(1, 0.8).Phases(new TrainingShape(100, 10, 50, 5, 32, 600, 8)));

        Assert.Equal(new GaussianPhase(0.1, 0.8, 50), phase);
        Assert.Equal(PrivacyUnit.Client, DefenseCatalog.DpFedAvg(1, 0.8).Unit);
        Assert.Equal("dpfedavg(clip=1,z=0.8)", DefenseCatalog.DpFedAvg(1, 0.8).Canonical);
    }
}
