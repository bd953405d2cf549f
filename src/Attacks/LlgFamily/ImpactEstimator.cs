using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Attacks.LlgFamily;

/// <summary>The impact m of one label occurrence and the per-class offset s (LLG* and LLG+).</summary>
public sealed record ImpactEstimate(double Impact, double[] Offset)
{
    /// <summary>Both scaled by <paramref name="factor"/>, as a common scale of the gradient scales them.</summary>
    public ImpactEstimate Scaled(double factor) => new(Impact * factor, Offset.Select(s => s * factor).ToArray());
}

/// <summary>
/// What an adaptive LLG passes the estimation gradients through, as the defence passed the observed one
/// (docs/attacks.md, adaptive attacks): <paramref name="ExampleClip"/>, DP-SGD's per-example clip norm, so every example
/// counts with its clipping factor; <paramref name="Keep"/>, top-k's keep fraction, applied to each estimation batch's
/// gradient as the defence applies it to an upload (the FC weight on its own, or ranked with every tensor when
/// <paramref name="GlobalTopK"/>). <see cref="None"/> leaves the estimate as the non-adaptive attack computes it, bit for bit.
/// </summary>
public sealed record EstimationDefense(double? ExampleClip, double? Keep, bool GlobalTopK = false)
{
    public static readonly EstimationDefense None = new(null, null);
}

/// <summary>
/// How LLG* and LLG+ scale one step's estimate to an upload of U local steps (docs/attacks.md, "LLG under FedAvg").
/// <see cref="Sum"/>: the upload sums U step gradients, each a mean over B, so one label occurrence still adds one
/// step's impact m and the other classes' offset grows to U·s. <see cref="Reference"/>: the LLG code's m/U with one
/// step's offset, which piles labels onto the dominant class when U &gt; 1.
/// </summary>
public enum LlgScaling { Sum, Reference }

/// <summary>
/// Estimates LLG's impact and offset from class-pure batches: for repetitions r = 1..n and classes i, a batch of B
/// inputs all labelled i gives the row sums G^(i,r) of the FC weight gradient (U = 1, current model, no defences).
/// With A_i = Σ_r G^(i,r) the LLG code computes m = (1 + 1/C)/U · (1/n) Σ_r (1/(C·B)) Σ_i G^(i,r)_i and
/// s_j = Σ_r Σ_{i≠j} G^(i,r)_j / (n(C−1)) (<see cref="LlgScaling.Reference"/>); the default <see cref="LlgScaling.Sum"/>
/// keeps m at one occurrence's impact and multiplies s by U, as an upload summed over U steps carries them.
///
/// Two ways to get A. <see cref="ClassSumsAutograd"/> is the reference: one forward/backward per batch, n·C passes.
/// <see cref="ClassSumsClosedForm"/> uses the closed form of the mean-CE last-layer gradient,
/// ∇W = (1/B) Σ_k (p_k − y_k) e_kᵀ, whose row sums are (1/B) Σ_k (p_k − y_k) O_k with O_k = Σ_d e_kd: a sample
/// contributes the same vector to every batch it is drawn into, so each distinct input is forwarded once and weighted
/// by how often it was drawn. Valid when a sample's output does not depend on the rest of its batch (no batch norm
/// in train mode); the attacks fall back to the reference otherwise.
/// </summary>
public static class ImpactEstimator
{
    /// <summary>Samples for the closed form: inputs, the class each stands for, and its weight (multiplicity / B).</summary>
    public sealed record WeightedSamples(Tensor Images, long[] Classes, double[] Weights);

    public static ImpactEstimate FromClassSums(double[,] a, int batchSize, int steps, int repeats, LlgScaling scaling)
    {
        int c = a.GetLength(0);
        double diagonal = 0;
        for (int i = 0; i < c; i++) diagonal += a[i, i];
        double impactSteps = scaling == LlgScaling.Reference ? steps : 1;
        double offsetSteps = scaling == LlgScaling.Reference ? 1 : steps;
        double impact = (1 + 1.0 / c) / impactSteps * diagonal / (repeats * (double)c * batchSize);
        var offset = new double[c];
        for (int j = 0; j < c; j++)
        {
            double sum = 0;
            for (int i = 0; i < c; i++) if (i != j) sum += a[i, j];
            offset[j] = offsetSteps * sum / (repeats * (c - 1.0));
        }
        return new ImpactEstimate(impact, offset);
    }

    /// <summary>A[i, :] = Σ over the batches of class i of the FC weight gradient's row sums, one autograd pass per batch.</summary>
    public static double[,] ClassSumsAutograd(Classifier model, IEnumerable<(int Class, Tensor Images)> batches, EstimationDefense? defense = null)
    {
        defense ??= EstimationDefense.None;
        int c = model.NumClasses;
        var weight = model.Fc.weight!;
        int fc = model.ParameterNames.ToList().IndexOf(Classifier.FcWeight);
        using var outer = torch.NewDisposeScope();
        var sums = torch.zeros([c, c], dtype: ScalarType.Float64, device: weight.device);
        foreach (var (label, images) in batches)
        {
            using var scope = torch.NewDisposeScope();
            // Explicit Scalars kept alive by `using` here and below: an implicit one may be finalised while libtorch still
            // reads it, which fails a cell under load with "Unknown scalar type" (as PerExampleGradients explains).
            using var fill = ((long)label).ToScalar();
            var target = torch.full(images.shape[0], fill, dtype: ScalarType.Int64, device: images.device);
            var grad = BatchGradient(model, images, target, fc, defense);
            // Accumulated on the device: a host read per batch would synchronise n·C times.
            sums[label].add_(grad.sum(1), One);
        }
        return ToHost(sums);
    }

    /// <summary>
    /// One estimation batch's FC weight gradient [C, d] in float64 as the defence would have passed it: the mean
    /// cross-entropy's gradient, or DP-SGD's mean of clipped per-example gradients, then top-k's selection (the FC
    /// weight on its own, or ranked with every tensor in parameter order when global), as <see cref="TopKSelection"/>
    /// selects for the defence.
    /// </summary>
    private static Tensor BatchGradient(Classifier model, Tensor images, Tensor target, int fc, EstimationDefense defense)
    {
        var parameters = defense.ExampleClip != null || defense.GlobalTopK ? model.parameters().ToArray() : [model.Fc.weight!];
        int position = parameters.Length == 1 ? 0 : fc;
        Tensor[] grads;
        if (defense.ExampleClip is { } clip)
        {
            // DP-SGD's batch gradient: the mean of the clipped per-example gradients.
            var perExample = PerExampleGradients.Compute(model, parameters, new Batch(images, target))
                .Aggregate((a, b) => a.Zip(b, (x, y) => torch.cat([x, y], 0)).ToArray());
            var factors = PerExampleGradients.ClipFactors(perExample, clip);
            using var count = ((double)images.shape[0]).ToScalar();
            grads = perExample.Select(g => torch.tensordot(factors, g, [0], [0]).div_(count)).ToArray();
        }
        else
            grads = torch.autograd.grad([functional.cross_entropy(model.forward(images), target)], parameters).ToArray();
        var gradient = grads[position].to(ScalarType.Float64);
        if (defense.Keep is not { } keep) return gradient;
        if (!defense.GlobalTopK) return gradient * TopKSelection.KeepMask(grads[position].flatten(), keep).view_as(gradient);
        long offset = grads.Take(position).Sum(g => g.numel());
        var mask = TopKSelection.KeepMask(torch.cat(grads.Select(g => g.flatten()).ToArray(), 0), keep).narrow(0, offset, gradient.numel());
        return gradient * mask.view_as(gradient);
    }

    private static readonly Scalar One = 1.0.ToScalar();

    /// <summary>The same A from one gradient-free forward pass per chunk of weighted samples; one host read at the end.</summary>
    public static double[,] ClassSumsClosedForm(Classifier model, IEnumerable<WeightedSamples> chunks, EstimationDefense? defense = null)
    {
        defense ??= EstimationDefense.None;
        int c = model.NumClasses;
        var device = model.Fc.weight!.device;
        using var outer = torch.NewDisposeScope();
        var sums = torch.zeros([c, c], dtype: ScalarType.Float64, device: device);
        foreach (var chunk in chunks)
        {
            using var scope = torch.NewDisposeScope();
            var classes = torch.tensor(chunk.Classes, dtype: ScalarType.Int64, device: device);
            var weights = torch.tensor(chunk.Weights, dtype: ScalarType.Float64, device: device);
            // A clipped example contributes its gradient times its factor (closed form of the clipped mean's row sums).
            if (defense.ExampleClip is { } clip)
                weights = weights * PerExampleGradients.ClipFactors(model, new Batch(chunk.Images, classes), clip).to(ScalarType.Float64);
            using (torch.no_grad())
            {
                var embedding = model.Embed(chunk.Images);
                var p = functional.softmax(model.Fc.forward(embedding), 1).to(ScalarType.Float64);
                var oneHot = functional.one_hot(classes, c).to(ScalarType.Float64);
                var contribution = (p - oneHot) * (weights * embedding.to(ScalarType.Float64).sum(1)).unsqueeze(1);
                sums.index_add_(0, classes, contribution, One);
            }
        }
        return ToHost(sums);
    }

    /// <summary>A [C, C] float64 tensor as a host matrix: the estimators' one device-to-host read.</summary>
    private static double[,] ToHost(Tensor sums)
    {
        var host = sums.cpu().data<double>().ToArray();
        var result = new double[sums.shape[0], sums.shape[1]];
        Buffer.BlockCopy(host, 0, result, 0, host.Length * sizeof(double));
        return result;
    }
}
