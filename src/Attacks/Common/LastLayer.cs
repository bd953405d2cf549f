using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Common;

/// <summary>
/// The last layer as label attacks read it: W-gradient [C, d], optional bias gradient [C], the counts behind it, and,
/// when known, the FC weight and bias the server sent (iLRG needs them for its probabilities) and the classes known
/// to be present (simplified iLRG). FedAvg weight deltas are turned back into the gradient sum Σ_t ∇_t = ΔW / η first
/// (η is public), so every "negative ⇒ present" rule sees the gradient sign (docs/attacks.md, sign and units).
/// </summary>
public sealed record LastLayer(Tensor WeightGrad, Tensor? BiasGrad, int BatchSize, int Steps)
{
    public int NumClasses => (int)WeightGrad.shape[0];

    /// <summary>Labels behind the gradient: N = B·U.</summary>
    public int Labels => BatchSize * Steps;

    /// <summary>The FC layer's weight W [C, d] the gradient was taken at; null when not known.</summary>
    public Tensor? Weight { get; init; }

    /// <summary>The FC layer's bias b [C]; null when not known or the layer has none.</summary>
    public Tensor? Bias { get; init; }

    /// <summary>Classes known to be present (an assumption of the threat model, never the counts); null when not lent.</summary>
    public IReadOnlyList<int>? KnownClasses { get; init; }

    /// <summary>Row sums g_c = Σ_d ∇W[c, d] over the input dimension (dim 1 of W [C, d]), in float64 on the host.</summary>
    public double[] RowSums() => WeightGrad.to(ScalarType.Float64).sum(1).cpu().data<double>().ToArray();

    /// <summary>The bias gradient in float64 on the host; the caller has checked that there is one.</summary>
    public double[] BiasGradient() => (BiasGrad ?? throw new InvalidOperationException("no bias gradient")).to(ScalarType.Float64).cpu().data<double>().ToArray();

    /// <summary>The last layer of <paramref name="update"/>, with the FC parameters of <paramref name="model"/> when given.</summary>
    public static LastLayer From(Update update, int batchSize, Protocol protocol, Classifier? model = null)
    {
        var w = update[Classifier.FcWeight];
        var b = update.Contains(Classifier.FcBias) ? update[Classifier.FcBias] : null;
        if (update.Kind == UpdateKind.WeightDelta && protocol is FedAvg avg)
        {
            // Explicit and kept alive: an implicit Scalar may be finalised while libtorch still reads it.
            using var rate = avg.LearningRate.ToScalar();
            w = w / rate;
            b = b is null ? null : b / rate;
        }
        return new LastLayer(w, b, batchSize, protocol.Steps)
        {
            Weight = model?.Fc.weight?.detach(),
            Bias = model?.Fc.bias?.detach(),
        };
    }
}
