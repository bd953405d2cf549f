namespace DefenseBench.Core.Attacks;

/// <summary>
/// What the harness needs to know about an attack besides running it, declared in its catalog entry.
/// </summary>
/// <param name="Family">The group its plots and leaderboard columns share: variants of one attack (llg, llg-star,
/// llg-plus) share a family; an attack that only shares a name prefix (idlg-label beside idlg) does not.</param>
/// <param name="CostWeight">Its forward passes per class relative to one sample, w(attack) in the sharding cost model:
/// 0 for an attack that only reads the gradient, hundreds of optimisation steps for gradient matching.</param>
/// <param name="PrimaryMetric">The cells.csv metric it is judged by (defence-sweep and trade-off plots, leaderboard,
/// recommend); null only with <paramref name="NoPrimaryMetricBecause"/>: then the first label metric its rows hold,
/// lnacc else asr. Rows that hold PSNR are judged by it whatever is declared here.</param>
/// <param name="NoPrimaryMetricBecause">Why an attack declares no primary metric; given exactly when
/// <paramref name="PrimaryMetric"/> is null, so a missing metric is a decision written in the entry, not an omission.</param>
public sealed record AttackTraits(string Family, double CostWeight, string? PrimaryMetric, string? NoPrimaryMetricBecause = null)
{
    public string? PrimaryMetric { get; } = (PrimaryMetric == null) != string.IsNullOrWhiteSpace(NoPrimaryMetricBecause)
        ? PrimaryMetric
        : throw new ArgumentException(PrimaryMetric == null
            ? $"attack family '{Family}': declare a primary metric, or say why it has none"
            : $"attack family '{Family}': a primary metric ({PrimaryMetric}) and a reason for having none ({NoPrimaryMetricBecause}) contradict each other");

    /// <summary>The name its papers give it ("LLG+", "iLRG"), which leaderboard columns show above a legend of full
    /// canonical names; null shows the canonical id.</summary>
    public string? ShortName { get; init; }
}
