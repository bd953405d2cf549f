using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.Noise;
using TorchSharp;

namespace DefenseBench.Defenses.Tests.Noise;

public sealed class AdditiveNoiseTests
{
    private static Update Zero() => new(UpdateKind.Gradient, [("w", torch.zeros(400, 100)), ("b", torch.zeros(100))]);

    [Theory]
    [InlineData(NoiseDistribution.Gaussian)]
    [InlineData(NoiseDistribution.Laplace)]
    public void Scale_zero_returns_the_upload_unchanged(NoiseDistribution distribution)
    {
        using var scope = torch.NewDisposeScope();
        var upload = TestUpdates.Random(new Rng(51));

        Assert.Same(upload, DefenseCatalog.AdditiveNoise(0, distribution).Open(0).Apply(upload, new Rng(1)));
    }

    [Fact]
    public void Gaussian_noise_has_std_equal_to_the_scale()
    {
        using var scope = torch.NewDisposeScope();
        var sent = DefenseCatalog.AdditiveNoise(0.3, NoiseDistribution.Gaussian).Open(0).Apply(Zero(), new Rng(2));

        Assert.Equal(0.3, TestUpdates.Std(sent.Tensors), 0.3 * 0.03);
    }

    [Fact]
    public void Laplace_noise_has_mean_absolute_value_b_and_std_b_root_two()
    {
        using var scope = torch.NewDisposeScope();
        var sent = DefenseCatalog.AdditiveNoise(0.5, NoiseDistribution.Laplace).Open(0).Apply(Zero(), new Rng(3));

        var values = sent.Tensors.SelectMany(TestUpdates.Values).ToArray();
        Assert.Equal(0.5, values.Average(v => Math.Abs(v)), 0.5 * 0.03);
        Assert.Equal(0.5 * Math.Sqrt(2), TestUpdates.Std(sent.Tensors), 0.7 * 0.04);
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void The_noise_is_a_function_of_the_stream()
    {
        using var scope = torch.NewDisposeScope();
        var noise = DefenseCatalog.AdditiveNoise(1, NoiseDistribution.Gaussian);

        Assert.True(TestUpdates.BitIdentical(noise.Open(0).Apply(Zero(), new Rng(4)), noise.Open(1).Apply(Zero(), new Rng(4))));
        Assert.False(TestUpdates.BitIdentical(noise.Open(0).Apply(Zero(), new Rng(4)), noise.Open(0).Apply(Zero(), new Rng(5))));
    }

    [Fact]
    public void Its_canonical_name_gives_scale_and_distribution()
    {
        Assert.Equal("noise(scale=0.01,dist=gaussian)", DefenseCatalog.AdditiveNoise(0.01, NoiseDistribution.Gaussian).Canonical);
        Assert.Equal("noise(scale=1,dist=laplace)", DefenseCatalog.AdditiveNoise(1, NoiseDistribution.Laplace).Canonical);
    }
}
