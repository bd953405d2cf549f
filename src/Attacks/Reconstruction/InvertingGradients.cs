using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// Inverting Gradients (Geiping, Bauermeister, Dröge, Moeller 2020; inversefed's GradientReconstructor, docs/attacks.md):
/// the cosine distance between the dummy gradient and the client's, over all layers at once, plus a total-variation
/// prior weighted by <paramref name="tv"/>; Adam on the sign of the images' gradient, the rate dropping tenfold at 3/8,
/// 5/8 and 7/8 of the steps, the images boxed to the data range after every step, dummies drawn from N(0, 1), and the
/// restart with the lowest cosine distance kept. Labels are <see cref="LabelMode.Analytic"/> (iDLG, iLRG) or
/// <see cref="LabelMode.Joint"/> (soft labels learned as DLG's). A FedAvg delta is matched as ΔW/η like DLG's; the
/// cosine is blind to that scale, but an adaptive attacker clips in gradient units.
/// </summary>
public sealed class InvertingGradients(ReconstructionOptions options, double tv, LabelMode labels) : ReconstructionAttack(options)
{
    public override string Id => "ig";
    protected override LabelMode Labels => labels;

    protected override MatchObjective Objective(IReadOnlyList<Tensor> uploads, int problems, UpdateKind kind, PublicInfo info) =>
        new CosineMatch(Dlg.Gradient(uploads, kind, info.Protocol), tv);

    protected override MatchSettings Settings(Classifier model) =>
        new(MatchOptimizer.Adam, Options.LearningRate, Options.Iterations, Options.Restarts) { Signed = true, StepDecay = true, Boxed = true };
}
