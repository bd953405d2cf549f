using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Federation;

/// <summary>
/// Which entries top-k keeps (docs/defences.md, topk): the ⌈keep·n⌉ largest by |value|, ties to the lower index (a
/// stable sort), so the selection does not depend on the device. The defence sparsifies uploads with it; an attacker
/// who knows the defence applies the same selection to its own gradients.
/// </summary>
public static class TopKSelection
{
    /// <summary>Number of entries kept out of <paramref name="count"/>: ⌈keep·n⌉, at least one.</summary>
    public static long KeptCount(double keep, long count) => Math.Max(1, (long)Math.Ceiling(keep * count - 1e-9));

    // The fill value, kept alive by the class: an implicit Scalar made from `true` at every call may be finalised while
    // libtorch still reads it, which failed top-k cells under load ("Expected false to be true", as PerExampleGradients explains).
    private static readonly Scalar Kept = true.ToScalar();

    /// <summary>A boolean mask of the kept entries of a flat tensor.</summary>
    public static Tensor KeepMask(Tensor flat, double keep)
    {
        long k = KeptCount(keep, flat.numel());
        var order = TorchSharp.torch.sort(flat.abs(), descending: true, stable: true).indices;
        return TorchSharp.torch.zeros_like(flat, dtype: ScalarType.Bool).index_fill_(0, order.narrow(0, 0, k), Kept);
    }
}
