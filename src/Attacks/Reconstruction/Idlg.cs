using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// iDLG (Zhao, Mopuri, Bilen 2020): the label of a single image is read from the last layer, then only the input is
/// optimised against the same gradient as <see cref="Dlg"/>.
/// </summary>
public sealed class Idlg(ReconstructionOptions options) : ReconstructionAttack(options)
{
    public override string Id => "idlg";
    protected override LabelMode Labels => LabelMode.Idlg;

    protected override MatchObjective Objective(IReadOnlyList<Tensor> uploads, int problems, UpdateKind kind, PublicInfo info) =>
        new GradientMatch(Dlg.Gradient(uploads, kind, info.Protocol));

    /// <summary>
    /// iDLG's rule for B = 1: with a non-negative embedding only the true class's row of ∇W has a negative sum, so the
    /// label is argmin_c Σ_d ∇W[c, d]. ΔW = η·∇ has the same sign (η &gt; 0; docs/attacks.md, sign and units), so η is not needed.
    /// </summary>
    public static int Label(Update update, int batchSize, string attack)
    {
        if (batchSize != 1)
            throw new NotApplicableException($"{attack} takes the label from the last layer's sign, which identifies one label; this upload holds B = {batchSize}");
        using var scope = torch.NewDisposeScope();
        return (int)update[Classifier.FcWeight].sum(1).argmin().cpu().item<long>();
    }
}
