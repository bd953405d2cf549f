using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// The objectives of the gradient-matching attacks as pure functions of tensor lists in the model's parameter order
/// (docs/attacks.md, DLG, iDLG, DLM, DLM+), for P independent problems at once: every tensor carries the problems in
/// its first dimension ([P, ...shape of the parameter]; a target of one problem may be [1, ...] and is then shared),
/// and every distance is returned per problem, [P]. Every list holds parameters only: batch-norm buffers never enter a
/// match (autograd gives them no gradient, so a match over the state dict would misalign the lists).
/// </summary>
public static class MatchingLoss
{
    // Kept alive by the class: an implicit Scalar per evaluation may be finalised while libtorch still reads it. One is
    // also the alpha of `a + b` and Two the exponent of square(), which TorchSharp would make implicitly.
    private static readonly Scalar One = 1.0.ToScalar(), Two = 2.ToScalar();

    /// <summary>
    /// The dummy loss of DLG and DLM with soft labels: mean_k(−Σ_c softmax(ŷ')_kc · log_softmax(f(x'))_kc), the
    /// reference code's cross_entropy_for_onehot applied to softmax(ŷ'), over the last two dimensions ([..., B, C]):
    /// one value per problem for [P, B, C] logits.
    /// </summary>
    public static Tensor SoftCrossEntropy(Tensor logits, Tensor labelLogits) =>
        -(functional.softmax(labelLogits, -1) * functional.log_softmax(logits, -1)).sum(-1).mean([-1]);

    /// <summary>DLG (Zhu et al. 2019, eq. 4): D = Σ_l ‖∇'_l − ∇_l‖², per problem.</summary>
    public static Tensor Euclidean(IReadOnlyList<Tensor> dummy, IReadOnlyList<Tensor> target) =>
        Sum(dummy.Zip(target, (g, t) => PerProblem((g - t).pow(Two))));

    /// <summary>
    /// DLM: D = Σ_l ‖∇'_l − k·ΔW_l‖², k ([P]) a learned scalar per problem standing in for 1/η. At k = 1/η it is DLG's
    /// D on ΔW/η.
    /// </summary>
    public static Tensor Scaled(IReadOnlyList<Tensor> dummy, IReadOnlyList<Tensor> delta, Tensor k) =>
        Sum(dummy.Zip(delta, (g, d) => PerProblem((g - Broadcast(k, d) * d).pow(Two))));

    /// <summary>
    /// DLM matched as an update: D = k₀²·Σ_l ‖∇'_l/k − ΔW_l‖², the dummy update η̂·∇' with the learned rate η̂ = 1/k
    /// against ΔW, in gradient units through the start k₀. It is <see cref="Scaled"/> weighted by (k₀/k)²: the same
    /// zeros (∇' = k·ΔW), the same value at k = k₀, but a vanishing dummy gradient with k → 0 no longer drives D to 0
    /// (it leaves k₀²·‖ΔW‖²), so k cannot collapse to that degenerate minimum of the code's objective.
    /// </summary>
    public static Tensor ScaledUpdate(IReadOnlyList<Tensor> dummy, IReadOnlyList<Tensor> delta, Tensor k, Tensor kStart) =>
        Scaled(dummy, delta, k) * (kStart / k).pow(Two);

    /// <summary>
    /// Inverting Gradients (Geiping et al. 2020, eq. 4; inversefed's cost 'sim'): D = 1 − ⟨∇', ∇⟩ / (‖∇'‖·‖∇‖) over the
    /// concatenation of every layer's gradient, per problem. 0 for parallel gradients, 2 for opposite ones, blind to a
    /// positive scale of either side; undefined (NaN) when either side is zero, as in the reference.
    /// </summary>
    public static Tensor Cosine(IReadOnlyList<Tensor> dummy, IReadOnlyList<Tensor> target)
    {
        var inner = Sum(dummy.Zip(target, (g, t) => PerProblem(g * t)));
        var dummyNorm = Sum(dummy.Select(g => PerProblem(g.pow(Two)))).sqrt();
        var targetNorm = Sum(target.Select(t => PerProblem(t.pow(Two)))).sqrt();
        return (inner / dummyNorm / targetNorm).neg().add(One, alpha: One);
    }

    /// <summary>
    /// The anisotropic total variation of Inverting Gradients (inversefed's metrics.total_variation), per problem of
    /// images [P, B, C, H, W]: the mean absolute difference of horizontal neighbours plus that of vertical neighbours,
    /// each averaged over the problem's whole batch.
    /// </summary>
    public static Tensor TotalVariation(Tensor images)
    {
        long h = images.shape[^2], w = images.shape[^1];
        var dx = (images.narrow(-1, 0, w - 1) - images.narrow(-1, 1, w - 1)).abs();
        var dy = (images.narrow(-2, 0, h - 1) - images.narrow(-2, 1, h - 1)).abs();
        return dx.flatten(1).mean([1]).add(dy.flatten(1).mean([1]), One);
    }

    /// <summary>ν(G) = mean_l ‖G_l‖₂ per problem: the mean of per-tensor L2 norms (DLM+), not the norm of all tensors together.</summary>
    public static Tensor MeanNorm(IReadOnlyList<Tensor> tensors) =>
        torch.stack(tensors.Select(t => PerProblem(t.pow(Two)).sqrt()).ToArray()).mean([0]);

    /// <summary>DLM+: D = Σ_l ‖∇'_l/ν(∇') − ΔW_l/ν(ΔW)‖², invariant to any positive scale of ΔW (so to η and to U).</summary>
    public static Tensor ScaleFree(IReadOnlyList<Tensor> dummy, IReadOnlyList<Tensor> delta) =>
        Euclidean(Normalised(dummy), Normalised(delta));

    /// <summary>G / ν(G), tensor by tensor, each problem by its own ν.</summary>
    public static IReadOnlyList<Tensor> Normalised(IReadOnlyList<Tensor> tensors)
    {
        var nu = MeanNorm(tensors);
        return tensors.Select(t => t / Broadcast(nu, t)).ToArray();
    }

    /// <summary>The sum over every dimension but the first (the problems): [P, ...] → [P].</summary>
    public static Tensor PerProblem(Tensor t) => t.flatten(1).sum(1);

    /// <summary>A per-problem value [P] shaped to multiply a [P, ...] tensor of <paramref name="like"/>'s rank.</summary>
    public static Tensor Broadcast(Tensor perProblem, Tensor like) =>
        perProblem.reshape([perProblem.shape[0], .. Enumerable.Repeat(1L, (int)like.dim() - 1)]);

    private static Tensor Sum(IEnumerable<Tensor> terms) => torch.stack(terms.ToArray()).sum(dim: 0);
}
