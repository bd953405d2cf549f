using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.Privacy;
using TorchSharp;

namespace DefenseBench.Defenses.Tests.Privacy;

public sealed class ClipNoiseTests
{
    [Fact]
    public void With_no_noise_and_an_infinite_clip_the_upload_is_bit_identical()
    {
        using var scope = torch.NewDisposeScope();
        var upload = TestUpdates.Random(new Rng(31), scale: 50);
        var expected = upload.Clone();

        var sent = DefenseCatalog.ClipNoise(double.PositiveInfinity, 0).Open(0).Apply(upload, new Rng(1));

        Assert.True(TestUpdates.BitIdentical(expected, sent));
    }

    [Fact]
    public void Without_noise_every_tensor_is_clipped_to_beta_on_its_own()
    {
        using var scope = torch.NewDisposeScope();
        var upload = TestUpdates.Random(new Rng(32), scale: 10);

        var sent = DefenseCatalog.ClipNoise(2.0, 0).Open(0).Apply(upload, new Rng(1));

        foreach (var (before, after) in upload.Tensors.Zip(sent.Tensors))
            Assert.Equal(Math.Min(2.0, TestUpdates.Norm([before])), TestUpdates.Norm([after]), 1e-5);
    }

    [Fact]
    public void The_noise_has_absolute_std_sigma()
    {
        using var scope = torch.NewDisposeScope();
        var zero = new Update(UpdateKind.Gradient, [("w", torch.zeros(300, 100))]);

        var sent = DefenseCatalog.ClipNoise(10, 0.1).Open(0).Apply(zero, new Rng(1));

        Assert.Equal(0.1, TestUpdates.Std(sent.Tensors), 0.003);
    }

    [Fact]
    public void It_accounts_a_client_level_gaussian_mechanism_of_replace_one_sensitivity_two_beta_root_l()
    {
        var phase = Assert.Single(DefenseCatalog.ClipNoise(10, 0.1).Phases(new TrainingShape(1, 1, 30, 1, 8, 8, 4)));

        // Each of the L = 4 tensors clipped to β = 10: ‖u‖ ≤ β·√L = 20, so replacing u moves it by at most 2β·√L = 40.
        Assert.Equal(new GaussianPhase(1.0, 0.1 / (2 * 10 * 2), 30), phase);
        Assert.Equal("clipnoise(clip=10,sigma=0.1)", DefenseCatalog.ClipNoise(10, 0.1).Canonical);
    }

    [Fact]
    public void One_round_of_clip_1_and_sigma_4_on_one_tensor_is_epsilon_2_17_at_delta_1e_5()
    {
        // Replace-one sensitivity 2β = 2, so z = σ/2 = 2: one Gaussian mechanism at q = 1.
        var privacy = PipelinePrivacy.For(DefensePipeline.From([DefenseCatalog.ClipNoise(1, 4)]), new TrainingShape(1, 1, 1, 1, 8, 8, 1), 1e-5)!;

        Assert.Equal(2.17, privacy.Spent.Epsilon, 0.01);
    }
}
