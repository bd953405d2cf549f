using DefenseBench.Attacks.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.LabelBaselines;

/// <summary>
/// RLG (Dang et al. 2021), as the iLRG code runs it: the SVD of ∇Wᵀ (d×C) in float64, its numerical rank r (numpy's
/// matrix_rank tolerance σ_max·max(d, C)·eps), the top k = min(N, r) right singular vectors, and the LP test of
/// <see cref="RlgFeasibility"/> per class. Sound while N &lt; d, so it collapses once the batch outgrows the
/// embedding (LeNet-5, d = 84). Existence only.
/// </summary>
public sealed class Rlg : LastLayerAttack
{
    public override string Id => "rlg";
    public override bool ExistenceOnly => true;

    public override int[] Recover(LastLayer layer) => Indicator(RlgFeasibility.Present(SingularBasis(layer.WeightGrad, layer.Labels)));

    /// <summary>The top k = min(<paramref name="labels"/>, rank) right singular vectors of ∇Wᵀ, as a k×C array.</summary>
    public static double[,] SingularBasis(Tensor weightGrad, int labels)
    {
        using var scope = torch.NewDisposeScope();
        var a = weightGrad.to(ScalarType.Float64).t();
        var (_, s, vh) = torch.linalg.svd(a, fullMatrices: false);
        double[] singular = s.cpu().data<double>().ToArray();
        double cut = singular.Length == 0 ? 0 : singular[0] * Math.Max(a.shape[0], a.shape[1]) * Math.Pow(2, -52);
        int k = Math.Min(labels, singular.Count(x => x > cut));
        int c = (int)vh.shape[1];
        var values = vh.narrow(0, 0, k).cpu().contiguous().data<double>().ToArray();
        var basis = new double[k, c];
        Buffer.BlockCopy(values, 0, basis, 0, values.Length * sizeof(double));
        return basis;
    }
}
