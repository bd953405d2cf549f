using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Defenses.Noise;

/// <summary>The distribution of additive noise.</summary>
public enum NoiseDistribution { Gaussian, Laplace }

/// <summary>
/// Noise tensors shaped like a target, drawn on a CPU generator seeded from the defence's stream and then moved to
/// the target's device (TorchSharp's CUDA generators crash, and CPU draws make CPU and GPU cells see the same noise).
/// </summary>
public static class NoiseTensors
{
    // Kept alive by the class: `a + b` would make an implicit alpha of 1 inside TorchSharp that may be finalised while
    // libtorch still reads it.
    private static readonly Scalar One = 1.ToScalar();

    /// <summary>Gaussian N(0, std²) (scale = std) or Laplace(0, b) (scale = b, std b·√2) noise like <paramref name="like"/>.</summary>
    public static Tensor Draw(NoiseDistribution distribution, Tensor like, double scale, Rng rng)
    {
        using var generator = new Generator((ulong)rng.NextTorchSeed(), torch.CPU);
        using var factor = scale.ToScalar(); // explicit and kept alive (see PerExampleGradients.ClippedSum)
        using var one = 1.0.ToScalar();
        Tensor noise;
        if (distribution == NoiseDistribution.Gaussian)
        {
            noise = torch.randn(like.shape, dtype: ScalarType.Float64, generator: generator).mul_(factor);
        }
        else
        {
            // The difference of two Exp(1) draws is Laplace(0, 1); 1 − U lies in (0, 1], so every logarithm is finite.
            var first = torch.rand(like.shape, dtype: ScalarType.Float64, generator: generator).neg_().add_(one, alpha: one).log_();
            var second = torch.rand(like.shape, dtype: ScalarType.Float64, generator: generator).neg_().add_(one, alpha: one).log_();
            noise = first.sub_(second).mul_(factor);
        }
        return noise.to(like.dtype).to(like.device);
    }

    /// <summary><paramref name="t"/> plus noise drawn as <see cref="Draw"/> draws it.</summary>
    public static Tensor Noised(NoiseDistribution distribution, Tensor t, double scale, Rng rng) => t.add(Draw(distribution, t, scale, rng), One);

    /// <summary><paramref name="t"/> plus Gaussian N(0, std²) noise.</summary>
    public static Tensor WithGaussian(Tensor t, double std, Rng rng) => Noised(NoiseDistribution.Gaussian, t, std, rng);
}
