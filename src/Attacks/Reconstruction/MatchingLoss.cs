using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// The objectives of the gradient-matching attacks as pure functions of tensor lists in the model's parameter order
/// (docs/attacks.md, DLG, iDLG, DLM, DLM+). Every list holds parameters only: batch-norm buffers never enter a match
/// (autograd gives them no gradient, so a match over the state dict would misalign the lists).
/// </summary>
public static class MatchingLoss
{
    /// <summary>
    /// The dummy loss of DLG and DLM with soft labels: mean_k(−Σ_c softmax(ŷ')_kc · log_softmax(f(x'))_kc), the
    /// reference code's cross_entropy_for_onehot applied to softmax(ŷ').
    /// </summary>
    public static Tensor SoftCrossEntropy(Tensor logits, Tensor labelLogits) =>
        -(functional.softmax(labelLogits, -1) * functional.log_softmax(logits, -1)).sum(-1).mean();

    /// <summary>DLG (Zhu et al. 2019, eq. 4): D = Σ_l ‖∇'_l − ∇_l‖².</summary>
    public static Tensor Euclidean(IReadOnlyList<Tensor> dummy, IReadOnlyList<Tensor> target) =>
        Sum(dummy.Zip(target, (g, t) => (g - t).square().sum()));

    /// <summary>DLM: D = Σ_l ‖∇'_l − k·ΔW_l‖², k a learned scalar standing in for 1/η. At k = 1/η it is DLG's D on ΔW/η.</summary>
    public static Tensor Scaled(IReadOnlyList<Tensor> dummy, IReadOnlyList<Tensor> delta, Tensor k) =>
        Sum(dummy.Zip(delta, (g, d) => (g - k * d).square().sum()));

    /// <summary>
    /// DLM matched as an update: D = k₀²·Σ_l ‖∇'_l/k − ΔW_l‖², the dummy update η̂·∇' with the learned rate η̂ = 1/k
    /// against ΔW, in gradient units through the start k₀. It is <see cref="Scaled"/> weighted by (k₀/k)²: the same
    /// zeros (∇' = k·ΔW), the same value at k = k₀, but a vanishing dummy gradient with k → 0 no longer drives D to 0
    /// (it leaves k₀²·‖ΔW‖²), so k cannot collapse to that degenerate minimum of the code's objective.
    /// </summary>
    public static Tensor ScaledUpdate(IReadOnlyList<Tensor> dummy, IReadOnlyList<Tensor> delta, Tensor k, Tensor kStart) =>
        Scaled(dummy, delta, k) * (kStart / k).square();

    /// <summary>ν(G) = mean_l ‖G_l‖₂: the mean of per-tensor L2 norms (DLM+), not the norm of all tensors together.</summary>
    public static Tensor MeanNorm(IReadOnlyList<Tensor> tensors) => torch.stack(tensors.Select(t => t.norm()).ToArray()).mean();

    /// <summary>DLM+: D = Σ_l ‖∇'_l/ν(∇') − ΔW_l/ν(ΔW)‖², invariant to any positive scale of ΔW (so to η and to U).</summary>
    public static Tensor ScaleFree(IReadOnlyList<Tensor> dummy, IReadOnlyList<Tensor> delta) =>
        Euclidean(Normalised(dummy), Normalised(delta));

    /// <summary>G / ν(G), tensor by tensor.</summary>
    public static IReadOnlyList<Tensor> Normalised(IReadOnlyList<Tensor> tensors)
    {
        var nu = MeanNorm(tensors);
        return tensors.Select(t => t / nu).ToArray();
    }

    private static Tensor Sum(IEnumerable<Tensor> terms) => torch.stack(terms.ToArray()).sum();
}
