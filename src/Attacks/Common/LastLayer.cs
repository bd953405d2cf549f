using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Common;

/// <summary>
/// The last layer's gradient as label attacks read it: W-gradient [C, d], optional bias gradient [C], and the counts
/// behind it. FedAvg weight deltas are turned back into the gradient sum Σ_t ∇_t = ΔW / η first (η is public), so
/// every "negative ⇒ present" rule sees the gradient sign (ALGORITHMS.md pitfall 2).
/// </summary>
public sealed record LastLayer(Tensor WeightGrad, Tensor? BiasGrad, int BatchSize, int Steps)
{
    public int NumClasses => (int)WeightGrad.shape[0];

    /// <summary>Labels behind the gradient: N = B·U.</summary>
    public int Labels => BatchSize * Steps;

    /// <summary>Row sums g_c = Σ_d ∇W[c, d] over the input dimension (pitfall 3), in float64 on the host.</summary>
    public double[] RowSums() => WeightGrad.to(ScalarType.Float64).sum(1).cpu().data<double>().ToArray();

    public static LastLayer From(Update update, int batchSize, Protocol protocol)
    {
        var w = update[Classifier.FcWeight];
        var b = update.Contains(Classifier.FcBias) ? update[Classifier.FcBias] : null;
        if (update.Kind == UpdateKind.WeightDelta && protocol is FedAvg avg)
        {
            w = w / avg.LearningRate;
            b = b is null ? null : b / avg.LearningRate;
        }
        return new LastLayer(w, b, batchSize, protocol.Steps);
    }
}
