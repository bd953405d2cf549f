using DefenseBench.Attacks.Common;
using DefenseBench.Attacks.IlrgFamily;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// Labels for a gradient-matching attack from this harness's analytic label attacks (docs/attacks.md, Inverting
/// Gradients): iDLG's sign rule for a single image, iLRG's counts for a batch, corrected to sum to B (its
/// <c>sum_to_batch</c>, which the iLRG code applies when it hands labels to image reconstruction) and expanded to one
/// label per dummy image, class by class (reconstructions are matched to originals by MSE, so their order is free).
/// </summary>
public static class AnalyticLabels
{
    public static int[] Of(Update update, int batchSize, Protocol protocol, Classifier model, string attack)
    {
        if (batchSize == 1) return [Idlg.Label(update, batchSize, attack)];
        if (protocol.Steps != 1)
            throw new NotApplicableException($"{attack} takes a batch's labels from iLRG, whose counts cover all B*U = {batchSize * protocol.Steps} labels of {protocol.Steps} local steps; the dummy batch holds B = {batchSize}");
        if (!update.Contains(Classifier.FcBias))
            throw new NotApplicableException($"{attack} takes a batch's labels from iLRG, which needs the last layer's bias gradient, and the model has no bias");
        var layer = LastLayer.From(update, batchSize, protocol, model);
        var counts = IlrgMath.Restore(layer.WeightGrad, layer.BiasGrad!, Ilrg.Required(layer.Weight, "weight"), Ilrg.Required(layer.Bias, "bias"),
            batchSize, layer.Labels, known: null, sumToLabels: true);
        return Expand(counts);
    }

    /// <summary>Counts per class as a label list: class c repeated counts[c] times, in class order.</summary>
    public static int[] Expand(IReadOnlyList<int> counts) => [.. counts.SelectMany((n, c) => Enumerable.Repeat(c, n))];
}
