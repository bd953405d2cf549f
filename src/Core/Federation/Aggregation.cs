using TorchSharp;

namespace DefenseBench.Core.Federation;

/// <summary>Plain (unprotected) FedAvg aggregation.</summary>
public static class Aggregation
{
    /// <summary>Σ_k w_k·u_k / Σ_k w_k over the uploads, tensor by tensor.</summary>
    public static Update WeightedMean(IReadOnlyList<Update> uploads, IReadOnlyList<double> weights)
    {
        if (uploads.Count == 0) throw new ArgumentException("nothing to aggregate", nameof(uploads));
        if (uploads.Count == 1) return uploads[0];
        double total = weights.Sum();
        var first = uploads[0];
        return first.Map((name, _) =>
        {
            var sum = torch.zeros_like(first[name]);
            for (int k = 0; k < uploads.Count; k++)
            {
                // Explicit and kept alive: see LocalTraining.SgdStep on implicit Scalars.
                using var weight = (weights[k] / total).ToScalar();
                sum.add_(uploads[k][name], weight);
            }
            return sum;
        });
    }
}
