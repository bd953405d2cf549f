using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.Noise;

namespace DefenseBench.Defenses.Privacy;

/// <summary>
/// Client-level DP-FedAvg (McMahan et al. 2018; Flower's central DP; docs/defences.md): each of the m uploads of a
/// round is clipped to L2 norm C as a whole, the clipped uploads are averaged with the fixed denominator m (equal
/// weights), and N(0, (z·C/m)²) is added to the average. The noise is added where the uploads are summed — a trusted
/// aggregator, or secure aggregation with distributed noise — so the attacker sees only the noised aggregate, never
/// an individual upload: attacks that need individual uploads are not applicable under it.
/// Accounting: q = clients per round ÷ clients, σ = z, T = rounds.
/// </summary>
public sealed class DpFedAvg(ParameterValues values) : GaussianMechanism("dpfedavg", values), IAggregationDefense, IPrivateDefense
{
    public PrivacyUnit Unit => PrivacyUnit.Client;

    /// <summary>
    /// The noised mean of the clipped uploads. The FedAvg weights are ignored (the fixed denominator m). With C = ∞ and
    /// z = 0 this is the plain equal-weight mean, bit for bit.
    /// </summary>
    public Aggregated Aggregate(IReadOnlyList<Update> uploads, IReadOnlyList<double> weights, Rng rng)
    {
        var clipped = uploads.Select(u => Clipping.ToNorm(u, Clip)).ToArray();
        var mean = Aggregation.WeightedMean(clipped, Enumerable.Repeat(1.0, clipped.Length).ToArray());
        double std = NoiseMultiplier * Clip / uploads.Count;
        return Aggregated.OfAll(NoiseMultiplier == 0 ? mean : mean.Map((_, t) => NoiseTensors.WithGaussian(t, std, rng)), uploads.Count);
    }

    public IReadOnlyList<GaussianPhase> Phases(TrainingShape run) =>
        [new GaussianPhase((double)run.ClientsPerRound / run.Clients, NoiseMultiplier, run.Rounds)];
}
