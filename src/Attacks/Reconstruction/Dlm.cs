using DefenseBench.Core.Federation;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// DLM (Zhao, Luo, Ding 2022): the attacker sees weights, not the learning rate, so the dummy gradient is matched to
/// k·ΔW with the scalar k learned jointly (it stands in for 1/η). It never reads η; <see cref="Reference"/> reports
/// the true 1/η (1 for a FedSGD gradient) beside k's final value only for the results file. With
/// <paramref name="relative"/> the start k_init is a multiple of the true 1/η, the DLM paper's experiment of starting
/// a known distance away; that reads η to place the start and nothing else. <paramref name="form"/> chooses the
/// distance: the code's ‖∇' − k·ΔW‖², or (the default) the same zeros weighted so that k → 0 is no minimum.
/// </summary>
public sealed class Dlm(ReconstructionOptions options, double kInit, bool relative, int kWarmup, LabelMode labels, DlmForm form = DlmForm.Update)
    : ReconstructionAttack(options)
{
    public override string Id => "dlm";
    protected override LabelMode Labels => labels;
    protected override bool KnowsScale => false;

    protected override MatchObjective Objective(IReadOnlyList<Tensor> uploads, int problems, UpdateKind kind, PublicInfo info) =>
        new ScaledMatch(uploads, relative ? kInit * TrueK(info.Protocol) : kInit, problems, kWarmup, form);

    protected override IReadOnlyDictionary<string, double> Reference(PublicInfo info) =>
        new Dictionary<string, double> { ["k_true"] = TrueK(info.Protocol) };

    /// <summary>The k at which DLM's objective is DLG's: 1/η for a FedAvg weight delta, 1 for a FedSGD gradient.</summary>
    public static double TrueK(Protocol protocol) => protocol is FedAvg avg ? 1.0 / avg.LearningRate : 1.0;
}
