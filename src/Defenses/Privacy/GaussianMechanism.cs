using DefenseBench.Core.Components;

namespace DefenseBench.Defenses.Privacy;

/// <summary>
/// The two parameters of a clipped Gaussian mechanism, shared by DP-SGD and DP-FedAvg: clipping norm C and noise
/// multiplier z (noise std z·C on the sum). C = ∞ with z &gt; 0 would mean infinite noise and is rejected.
/// </summary>
public abstract class GaussianMechanism
{
    protected GaussianMechanism(string id, double clip, double noiseMultiplier)
    {
        if (double.IsPositiveInfinity(clip) && noiseMultiplier > 0)
            throw new InputException($"{id} with clip=inf and z={ParameterSpec.FormatReal(noiseMultiplier)} would add noise of infinite std z·clip",
                "give a finite clip, or z: 0");
        Id = id;
        Clip = clip;
        NoiseMultiplier = noiseMultiplier;
    }

    private string Id { get; }
    public double Clip { get; }
    public double NoiseMultiplier { get; }

    /// <summary>"dpsgd(clip=1,z=0.5)".</summary>
    public string Canonical => ParameterValues.Create(DefenseCatalog.DpParameters,
        new Dictionary<string, object> { ["clip"] = Clip, ["z"] = NoiseMultiplier }).CanonicalName(Id);
}
