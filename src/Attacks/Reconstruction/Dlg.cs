using DefenseBench.Core.Federation;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// DLG (Zhu, Liu, Han 2019): dummy inputs and soft labels optimised so the dummy gradient matches the client's
/// gradient. A FedAvg upload is turned back into a gradient with the true learning rate η from the public protocol,
/// ∇ = ΔW/η (the true-η baseline DLM is compared with); for U &gt; 1 that is Σ_t ∇_t, matched as one gradient.
/// </summary>
public sealed class Dlg(ReconstructionOptions options) : ReconstructionAttack(options)
{
    public override string Id => "dlg";
    protected override LabelMode Labels => LabelMode.Joint;

    protected override MatchObjective Objective(IReadOnlyList<Tensor> uploads, int problems, UpdateKind kind, PublicInfo info) =>
        new GradientMatch(Gradient(uploads, kind, info.Protocol));

    /// <summary>The gradient behind an upload when η is known: the upload itself (FedSGD), or ΔW·(1/η) (FedAvg).</summary>
    public static IReadOnlyList<Tensor> Gradient(IReadOnlyList<Tensor> upload, UpdateKind kind, Protocol protocol)
    {
        if (kind != UpdateKind.WeightDelta || protocol is not FedAvg avg) return upload;
        // An explicit Scalar, disposed after use: an implicit one may be finalised while libtorch still reads it.
        using var rate = (1.0 / avg.LearningRate).ToScalar();
        return upload.Select(t => t * rate).ToArray();
    }
}
