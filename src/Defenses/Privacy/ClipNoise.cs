using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Defenses.Noise;

namespace DefenseBench.Defenses.Privacy;

/// <summary>
/// The LLG paper's "DP" defence (Wainakh et al. 2022, as coded; docs/defences.md): each tensor of a client's upload is
/// clipped to L2 norm β on its own, then Gaussian noise of absolute std σ is added to every entry (the code's noise
/// multiplier σ/β times β). It clips the batch's gradient, not each example's, so its guarantee is client-level. The
/// server sees each upload on its own and knows who sent it, so the neighbouring relation is replace-one: the client's
/// data replaced by other data, its upload u by any u' with each tensor's norm ≤ β. Then ‖u − u'‖ ≤ 2β·√L for L
/// tensors, giving z = σ/(2β·√L) with q = 1 and T = rounds (docs/defences.md).
/// </summary>
public sealed class ClipNoise(ParameterValues values) : IClientDefense, IPrivateDefense
{
    public double ClipNorm { get; } = values.Real("clip");
    public double Sigma { get; } = values.Real("sigma");

    public string Canonical { get; } = values.CanonicalName("clipnoise");

    public PrivacyUnit Unit => PrivacyUnit.Client;

    public IClientDefenseSession Open(int client) => new StatelessSession((upload, rng) =>
    {
        var clipped = Clipping.EachTensor(upload, ClipNorm);
        return Sigma == 0 ? clipped : clipped.Map((_, t) => NoiseTensors.WithGaussian(t, Sigma, rng));
    });

    public IReadOnlyList<GaussianPhase> Phases(TrainingShape run) =>
        [new GaussianPhase(1.0, Sigma / (2 * ClipNorm * Math.Sqrt(run.UpdateTensors)), run.Rounds)];
}
