using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;

namespace DefenseBench.Defenses.Noise;

/// <summary>
/// Plain additive noise of an absolute scale on every entry of an upload, without clipping (breaching's and the LLG
/// paper's "noise" defence): Gaussian with std = scale, or Laplace with b = scale. Without clipping the sensitivity is
/// unbounded, so it has no finite ε. scale = 0 returns the upload unchanged.
/// </summary>
public sealed class AdditiveNoise(ParameterValues values) : IClientDefense
{
    public double Scale { get; } = values.Real("scale");
    public NoiseDistribution Distribution { get; } = values.Choice("dist") == "laplace" ? NoiseDistribution.Laplace : NoiseDistribution.Gaussian;

    public string Canonical { get; } = values.CanonicalName("noise");

    public static string DistributionName(NoiseDistribution d) => d == NoiseDistribution.Gaussian ? "gaussian" : "laplace";

    public IClientDefenseSession Open(int client) => new StatelessSession((upload, rng) =>
        Scale == 0 ? upload : upload.Map((_, t) => NoiseTensors.Noised(Distribution, t, Scale, rng)));
}
