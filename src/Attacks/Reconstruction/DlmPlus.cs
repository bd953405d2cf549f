using DefenseBench.Core.Federation;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// DLM+ (Zhao, Luo, Ding 2022): the scale-free match of per-tensor-norm-normalised gradients, so neither η nor the
/// number of local steps needs to be known or learned. Labels are learned jointly (the code's dlm_defense.py) or,
/// for B = 1, taken from the last layer's sign (iDLG), rather than the ground-truth label the DLM+ code uses (docs/attacks.md).
/// </summary>
public sealed class DlmPlus(ReconstructionOptions options, LabelMode labels) : ReconstructionAttack(options)
{
    public override string Id => "dlm-plus";
    protected override LabelMode Labels => labels;
    protected override bool KnowsScale => false;
    protected override double AdamRate => 0.01;

    protected override MatchObjective Objective(IReadOnlyList<Tensor> uploads, int problems, UpdateKind kind, PublicInfo info) => new ScaleFreeMatch(uploads);
}
