using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.IlrgFamily;

/// <summary>
/// iLRG's label restoration (Ma et al., ICLR 2023; the iLRG code's methods.py and utils.py), as pure functions in
/// float64. With the mean cross-entropy over K samples, K·∇b_i = Σ_j n_j p̄_j[i] − n_i (docs/attacks.md, iLRG); the class
/// means p̄_j are estimated from class-wise embeddings ê_j = ∇W[j,:] / ∇b_j, and the (C+1)×C system with the row
/// Σ_j n_j = K is solved with the Moore–Penrose pseudoinverse.
/// </summary>
public static class IlrgMath
{
    /// <summary>
    /// The pseudoinverse cuts singular values below this fraction of the largest: numpy.linalg.pinv's rcond, which the
    /// reference uses; libtorch's default (max(M, N)·eps) differs (docs/attacks.md, iLRG).
    /// </summary>
    public const double PinvRtol = 1e-15;

    /// <summary>The reference clamps the base-10 exponent of ∇W/∇b to ±10 (get_emb's exp_thre).</summary>
    public const int ExponentClamp = 10;

    // Every Scalar below is explicit and kept alive (by `using`, or by the class): an implicit one, including the alpha
    // of 1 that `a + b` makes inside TorchSharp, may be finalised while libtorch still reads it.
    private static readonly Scalar Zero = 0.ToScalar(), One = 1.ToScalar();

    /// <summary>
    /// Class-wise embeddings ê_j = ∇W[j,:] / ∇b_j [C, d], guarded as get_emb does: both numbers split into a
    /// base-10 mantissa and exponent, the exponent difference clamped to ±10, and ∇b_j = 0 read as 1·10⁻⁶⁴, so a
    /// vanishing bias gradient gives a large but finite embedding instead of infinity.
    /// </summary>
    public static Tensor ClassEmbeddings(Tensor weightGrad, Tensor biasGrad)
    {
        var (mw, ew) = Scientific(weightGrad.to(ScalarType.Float64), zeroExponent: 0);
        var (mb, eb) = Scientific(biasGrad.to(ScalarType.Float64), zeroExponent: -64);
        mb = torch.where(mb.eq(Zero), torch.ones_like(mb), mb);
        using var low = (-ExponentClamp).ToScalar();
        using var high = ExponentClamp.ToScalar();
        var exponent = (ew - eb.unsqueeze(1)).clamp(low, high);
        return mw / mb.unsqueeze(1) * torch.pow(10.0, exponent);
    }

    /// <summary>x = m·10^e with 1 ≤ |m| &lt; 10 ("%e"); zero gives m = 0 and e = <paramref name="zeroExponent"/>.</summary>
    private static (Tensor Mantissa, Tensor Exponent) Scientific(Tensor x, double zeroExponent)
    {
        var zero = x.eq(Zero);
        using var zeroFill = zeroExponent.ToScalar();
        var exponent = torch.where(zero, torch.full_like(x, zeroFill), torch.floor(torch.log10(x.abs())));
        var mantissa = torch.where(zero, torch.zeros_like(x), x / torch.pow(10.0, exponent));
        return (mantissa, exponent);
    }

    /// <summary>p̂_j = softmax(W ê_j + b) for every class j: row j of the result [C, C] (post_process_emb, α = 1).</summary>
    public static Tensor ClassProbabilities(Tensor embeddings, Tensor weight, Tensor bias) =>
        torch.nn.functional.softmax(embeddings.matmul(weight.to(ScalarType.Float64).t()).add(bias.to(ScalarType.Float64), One), 1);

    /// <summary>
    /// The system A n = v over the classes in <paramref name="classes"/> (all C for iLRG, the known set S for the
    /// simplified variant): A[0, :] = 1, v[0] = <paramref name="labels"/>; A[1+i, j] = P[j, i] − [i = j],
    /// v[1+i] = <paramref name="batchSize"/>·∇b_i. With U local steps (∇b summed over steps) the first row counts all
    /// B·U labels and the rest stay B·∇b; for U = 1 this is the paper's system with K = B.
    /// </summary>
    public static (Tensor A, Tensor V) System(Tensor probabilities, Tensor biasGrad, int batchSize, int labels, long[] classes)
    {
        var index = torch.tensor(classes, device: probabilities.device);
        var p = probabilities.index_select(0, index).index_select(1, index);
        var block = p.t() - torch.eye(classes.Length, dtype: ScalarType.Float64, device: p.device);
        var a = torch.cat([torch.ones(1, classes.Length, dtype: ScalarType.Float64, device: p.device), block], 0);
        using var size = batchSize.ToScalar();
        using var count = ((double)labels).ToScalar();
        var gb = biasGrad.to(ScalarType.Float64).index_select(0, index) * size;
        var v = torch.cat([torch.full(1, count, dtype: ScalarType.Float64, device: p.device), gb], 0);
        return (a, v);
    }

    /// <summary>n_f = A⁺ v with an explicit relative cut-off (<see cref="PinvRtol"/>).</summary>
    public static double[] Solve(Tensor a, Tensor v) =>
        torch.linalg.pinv(a, rtol: PinvRtol).matmul(v).cpu().data<double>().ToArray();

    /// <summary>n = round(max(n_f, 0)) (half to even, as numpy), and n = 0 where it exceeds the label count.</summary>
    public static int[] Round(double[] raw, int labels) =>
        raw.Select(x => Math.Round(Math.Max(x, 0), MidpointRounding.ToEven)).Select(x => x > labels ? 0 : (int)x).ToArray();

    /// <summary>
    /// The optional "sum to K" correction (the reference's mod_res, used for image reconstruction, not for the
    /// metrics): while Σn &gt; K take one from the present class rounded up the most (n − n_f largest), while Σn &lt; K
    /// add one to the class rounded down the most. The reference's negative branch slices inds[:num_mod] with
    /// num_mod &lt; 0 (all but the last |num_mod|) and its positive branch can push an absent class to −1; this one
    /// moves exactly |Σn − K| units and never below zero.
    /// </summary>
    public static int[] SumTo(int[] rounded, double[] raw, int labels)
    {
        var n = (int[])rounded.Clone();
        int total = n.Sum();
        for (; total > labels; total--)
        {
            int best = -1;
            for (int c = 0; c < n.Length; c++)
                if (n[c] > 0 && (best < 0 || n[c] - raw[c] > n[best] - raw[best])) best = c;
            n[best]--;
        }
        for (; total < labels; total++)
        {
            int best = 0;
            for (int c = 1; c < n.Length; c++)
                if (n[c] - raw[c] < n[best] - raw[best]) best = c;
            n[best]++;
        }
        return n;
    }

    /// <summary>
    /// The whole restoration: counts per class (length C) from the FC gradients and parameters, restricted to
    /// <paramref name="known"/> when given (zero elsewhere).
    /// </summary>
    public static int[] Restore(Tensor weightGrad, Tensor biasGrad, Tensor weight, Tensor bias, int batchSize, int labels,
        IReadOnlyList<int>? known = null, bool sumToLabels = false)
    {
        using var scope = torch.NewDisposeScope();
        int c = (int)weightGrad.shape[0];
        long[] classes = known?.Distinct().Order().Select(k => (long)k).ToArray() ?? Enumerable.Range(0, c).Select(k => (long)k).ToArray();
        var counts = new int[c];
        if (classes.Length == 0) return counts;
        var probabilities = ClassProbabilities(ClassEmbeddings(weightGrad, biasGrad), weight, bias);
        var (a, v) = System(probabilities, biasGrad, batchSize, labels, classes);
        double[] raw = Solve(a, v);
        int[] n = Round(raw, labels);
        if (sumToLabels) n = SumTo(n, raw, labels);
        for (int i = 0; i < classes.Length; i++) counts[classes[i]] = n[i];
        return counts;
    }
}
