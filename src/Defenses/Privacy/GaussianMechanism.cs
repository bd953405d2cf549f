using DefenseBench.Core.Components;

namespace DefenseBench.Defenses.Privacy;

/// <summary>
/// The two parameters of a clipped Gaussian mechanism, shared by DP-SGD and DP-FedAvg: clipping norm C and noise
/// multiplier z (noise std z·C on the sum). C = ∞ with z &gt; 0 would mean infinite noise and is rejected.
/// </summary>
public abstract class GaussianMechanism
{
    protected GaussianMechanism(string id, ParameterValues values)
    {
        double clip = values.Real("clip"), noiseMultiplier = values.Real("z");
        if (double.IsPositiveInfinity(clip) && noiseMultiplier > 0)
            throw new InputException($"{id} with clip=inf and z={ParameterSpec.FormatReal(noiseMultiplier)} would add noise of infinite std z·clip",
                "give a finite clip, or z: 0");
        Clip = clip;
        NoiseMultiplier = noiseMultiplier;
        Canonical = values.CanonicalName(id);
    }

    public double Clip { get; }
    public double NoiseMultiplier { get; }

    /// <summary>"dpsgd(clip=1,z=0.5)", from the values it was created with.</summary>
    public string Canonical { get; }
}
