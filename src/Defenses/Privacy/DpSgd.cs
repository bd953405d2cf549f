using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.Noise;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Defenses.Privacy;

/// <summary>
/// Example-level DP-SGD (Abadi et al. 2016; Opacus; docs/defences.md): every local step clips each example's gradient
/// to L2 norm C, adds N(0, (z·C)²) to their sum and divides by the batch size B. It replaces how the client computes
/// its gradients, so it is the first stage of a pipeline. With C = ∞ (then z must be 0) clipping is the identity and
/// the plain batch gradient is used, bit for bit.
/// Accounting: q = B / n (n the client's examples, the smallest client's), σ = z, T = rounds × local steps, i.e. a
/// client that takes part in every round, when batches are sampled. When they are a fixed schedule (the attacked
/// round: U disjoint batches, or one batch reused U times) nothing is sampled and there is no amplification: an
/// example used k times in a round composes k Gaussian mechanisms at q = 1 (disjoint batches compose in parallel).
/// A Poisson-sampled batch (utility training) is divided by its expected size, as Opacus does.
/// </summary>
public sealed class DpSgd(ParameterValues values) : GaussianMechanism("dpsgd", values), IGradientDefense, IPrivateDefense
{
    public PrivacyUnit Unit => PrivacyUnit.Example;

    public IClientDefenseSession Open(int client) => StatelessSession.PassThrough;

    public LocalGradient Gradient(Rng rng) => (model, parameters, batch) =>
    {
        if (double.IsPositiveInfinity(Clip)) return LocalTraining.MeanLossGradient(model, parameters, batch);
        // An explicit, kept-alive Scalar (see PerExampleGradients.ClippedSum).
        using var size = (batch.ExpectedSize ?? batch.Labels.shape[0]).ToScalar();
        var sums = PerExampleGradients.ClippedSum(model, parameters, batch, Clip);
        return sums.Select(sum => NoiseMultiplier == 0 ? sum.div(size) : NoiseTensors.WithGaussian(sum, NoiseMultiplier * Clip, rng).div_(size)).ToArray();
    };

    public IReadOnlyList<GaussianPhase> Phases(TrainingShape run) => run.UsesPerExample is { } uses
        ? [new GaussianPhase(1.0, NoiseMultiplier, (long)run.Rounds * uses)]
        : [new GaussianPhase(Math.Min(1.0, (double)run.BatchSize / run.ExamplesPerClient), NoiseMultiplier, (long)run.Rounds * run.LocalSteps)];
}
