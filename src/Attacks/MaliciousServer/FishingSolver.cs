using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.MaliciousServer;

/// <summary>The split of an aggregated last-layer gradient into per-client bias gradients, and the residual of the fit.</summary>
public sealed record FishingSplit(double[][] BiasGradients, double RelativeResidual);

/// <summary>
/// The linear algebra of Fishing-SA (docs/attacks.md, Fishing; derived, no public code): client k's last-layer gradient is the rank-one
/// ∇W^(k) = ∇b^(k)·e^(k)ᵀ, so the aggregate [G_W | G_b] = Σ_k ω_k ∇b^(k)·[e^(k)ᵀ, 1] = X·Ẽᵀ with X[:, k] = ω_k ∇b^(k)
/// and Ẽ = [E; 1ᵀ]. When Ẽ has full column rank (K ≤ d + 1) the least-squares solution is X exactly. Float64 throughout.
/// </summary>
public static class FishingSolver
{
    /// <summary>Ẽ as a (d + 1) × K float64 tensor on the CPU: the embeddings as columns, and a row of ones when the layer has a bias.</summary>
    private static Tensor Design(IReadOnlyList<double[]> embeddings, bool withBias)
    {
        int d = embeddings[0].Length;
        var columns = embeddings.Select(e => withBias ? [.. e, 1.0] : e).ToArray();
        return torch.tensor(columns.SelectMany(c => c).ToArray(), [columns.Length, d + (withBias ? 1 : 0)], ScalarType.Float64).t();
    }

    /// <summary>cond(Ẽ) = σ_max / σ_min (∞ when Ẽ is rank-deficient, e.g. K &gt; d + 1).</summary>
    public static double Condition(IReadOnlyList<double[]> embeddings, bool withBias)
    {
        using var scope = torch.NewDisposeScope();
        var design = Design(embeddings, withBias);
        if (design.shape[1] > design.shape[0]) return double.PositiveInfinity;
        var singular = torch.linalg.svdvals(design).data<double>().ToArray();
        return singular[^1] == 0 ? double.PositiveInfinity : singular[0] / singular[^1];
    }

    /// <summary>
    /// ∇b^(k) = X[:, k] / ω_k from the aggregated weight gradient <paramref name="weightGradient"/> [C, d], bias gradient
    /// <paramref name="biasGradient"/> [C] (null without a bias) and the embeddings e^(k) the server preset.
    /// </summary>
    public static FishingSplit Split(Tensor weightGradient, Tensor? biasGradient, IReadOnlyList<double[]> embeddings, IReadOnlyList<double> aggregateWeights)
    {
        using var scope = torch.NewDisposeScope();
        var observed = weightGradient.to(ScalarType.Float64).cpu();
        if (biasGradient is not null) observed = torch.cat([observed, biasGradient.to(ScalarType.Float64).cpu().unsqueeze(1)], 1);
        var design = Design(embeddings, biasGradient is not null);
        // Ẽ·Xᵀ = [G_W | G_b]ᵀ in the least-squares sense: ((d+1) × K)·(K × C) = (d+1) × C.
        var (solution, _, _, _) = torch.linalg.lstsq(design, observed.t());
        var fit = design.matmul(solution);
        double residual = (fit - observed.t()).norm().item<double>() / Math.Max(observed.norm().item<double>(), double.Epsilon);
        var x = solution.data<double>().ToArray();
        int classes = (int)observed.shape[0];
        var gradients = Enumerable.Range(0, embeddings.Count)
            .Select(k => Enumerable.Range(0, classes).Select(c => x[k * classes + c] / aggregateWeights[k]).ToArray())
            .ToArray();
        return new FishingSplit(gradients, residual);
    }

    /// <summary>
    /// Label counts of one client from its preset softmax p and its bias gradient summed over U local steps of B
    /// labels each (mean cross-entropy): Σ_t ∇b_t = U·p − n/B, so n = round(B·(U·p − Σ_t ∇b_t)), clamped at 0.
    /// Exact for U = 1; for U &gt; 1 it assumes the embedding stayed preset, which the first step breaks.
    /// </summary>
    public static int[] Counts(IReadOnlyList<double> probabilities, IReadOnlyList<double> biasGradientSum, int batchSize, int steps) =>
        probabilities.Select((p, c) => Math.Max(0, (int)Math.Round(batchSize * (steps * p - biasGradientSum[c]), MidpointRounding.AwayFromZero))).ToArray();
}
