using System.Globalization;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Running;

/// <summary>Scores an attack's outcome against the ground truth, which only the scorer sees.</summary>
public static class Scoring
{
    /// <summary>
    /// Label and image metrics, and the attack's side values in extras. <paramref name="contributors"/>: the clients whose
    /// uploads the server's aggregate holds (all of them unless secure aggregation lost some); the others are not scored,
    /// and the row's <c>unscored</c> column says so.
    /// </summary>
    public static (CellRow Row, IReadOnlyList<MatchedImages> Images) Score(CellRow row, AttackOutcome outcome, VictimRound round, ScoringOptions options,
        IReadOnlyList<int>? contributors = null)
    {
        contributors ??= Enumerable.Range(0, round.Clients.Count).ToArray();
        row = ScoreLabels(row, outcome, round, contributors) with { Unscored = Unscored(round, contributors) };
        var matched = outcome.Images.Select(recovery => Match(recovery, round, contributors)).ToArray();
        var extras = outcome.Extras.ToList();
        if (matched.Length > 0)
        {
            row = ScoreImages(row, matched.SelectMany(m => m.Pairs.Select(p => p.Score)).ToArray(), options.SuccessPsnr);
            extras.Add(new("success_psnr", options.SuccessPsnr));
        }
        return (row with { Extras = Extras(extras) }, matched);
    }

    /// <summary>
    /// Label metrics per target (a contributing client, or the aggregate = the contributors' counts), averaged over
    /// targets. An attack that recovers only which classes are present is scored on LeAcc alone; its count metrics stay
    /// empty. A recovery for a client outside <paramref name="contributors"/> is an error of the attack: its input never
    /// reached the server.
    /// </summary>
    public static CellRow ScoreLabels(CellRow row, AttackOutcome outcome, VictimRound round, IReadOnlyList<int> contributors)
    {
        if (outcome.Labels.Count == 0) return row;
        var scores = outcome.Labels.Select(recovery =>
        {
            if (recovery.Target != LabelRecovery.Aggregate && !contributors.Contains(recovery.Target))
                throw new InvalidOperationException($"the attack recovered client {recovery.Target}, whose upload is not in the aggregate");
            int[] truth = TrueCounts(round, recovery.Target, contributors);
            return LabelScorers.Select(s => (double?)s.Score(recovery.Counts, truth)).ToArray();
        }).ToArray();
        bool existenceOnly = outcome.Labels.All(l => l.ExistenceOnly);
        for (int i = 0; i < LabelScorers.Length; i++)
        {
            var metric = LabelScorers[i].Metric;
            row = metric.Write(row, existenceOnly && !metric.Presence ? null : scores.Average(s => s[i]));
        }
        return row;
    }

    /// <summary>How each label metric of the metric table is computed from the predicted and the true counts.</summary>
    private static readonly (MetricSpec Metric, Func<int[], int[], double> Score)[] LabelScorers =
    [
        (Metrics.Asr, LabelMetrics.Asr), (Metrics.AsrRandom, (_, truth) => RandomGuess.Asr(truth)),
        (Metrics.LeAcc, LabelMetrics.LeAcc), (Metrics.LeAccRandom, (_, truth) => RandomGuess.LeAcc(truth)),
        (Metrics.LnAcc, LabelMetrics.LnAcc), (Metrics.LnAccRandom, (_, truth) => RandomGuess.LnAcc(truth)),
        (Metrics.IRec, LabelMetrics.IRec),
    ];

    /// <summary>The true counts behind a target: one client's, or for the aggregate the sum over the clients it holds.</summary>
    public static int[] TrueCounts(VictimRound round, int target, IReadOnlyList<int> contributors) => target == LabelRecovery.Aggregate
        ? Enumerable.Range(0, round.Spec.NumClasses).Select(c => contributors.Sum(k => round.Clients[k].TrueCounts[c])).ToArray()
        : round.Clients[target].TrueCounts;

    /// <summary>The clients the aggregate lacks, and why they are not scored; empty when it holds every client.</summary>
    public static string Unscored(VictimRound round, IReadOnlyList<int> contributors)
    {
        var dropped = Enumerable.Range(0, round.Clients.Count).Except(contributors).ToArray();
        return dropped.Length == 0 ? ""
            : $"client{(dropped.Length > 1 ? "s" : "")} {string.Join(" ", dropped)} dropped out of secure aggregation before {(dropped.Length > 1 ? "their" : "its")} masked input reached the server; not in the aggregate, not scored";
    }

    /// <summary>
    /// An attack's diagnostics (fishing's condition number and residual, say) to six significant digits: they are for
    /// reading, and their last bits depend on libtorch's reduction order, which differs between a sharded and a whole run.
    /// </summary>
    private static string Extras(IEnumerable<KeyValuePair<string, double>> extras) =>
        string.Join(";", extras.Select(kv => $"{kv.Key}={kv.Value.ToString("G6", CultureInfo.InvariantCulture)}"));

    /// <summary>
    /// Means over every matched image: MSE, PSNR (each capped at <see cref="ImageMetrics.PsnrCeiling"/> so an exact
    /// recovery does not make the mean infinite), SSIM, and the share of images whose PSNR reaches the threshold.
    /// </summary>
    public static CellRow ScoreImages(CellRow row, IReadOnlyList<ImageScore> scores, double successPsnr) => scores.Count == 0 ? row : row with
    {
        Mse = scores.Average(s => s.Mse),
        Psnr = scores.Average(s => Math.Min(s.Psnr, ImageMetrics.PsnrCeiling)),
        Ssim = scores.Average(s => s.Ssim),
        Success = scores.Count(s => s.Psnr >= successPsnr) / (double)scores.Count,
    };

    /// <summary>Matches one target's reconstructions to the distinct images behind its upload (every step's batch).</summary>
    private static MatchedImages Match(ImageRecovery recovery, VictimRound round, IReadOnlyList<int> contributors)
    {
        var clients = recovery.Target == LabelRecovery.Aggregate ? contributors.Select(k => round.Clients[k]).ToList() : [round.Clients[recovery.Target]];
        // With same_batch the protocol repeats one batch object; each image counts once.
        var originals = clients.SelectMany(c => c.StepBatches.Distinct()).SelectMany(b => b.Images.PerImage()).ToArray();
        var scores = ImageMetrics.MatchAndScore(recovery.Images, originals, recovery.Shape);
        return new MatchedImages(recovery.Target, recovery.Shape,
            scores.Select(s => (originals[s.Original], ImageMetrics.Clamp01(recovery.Images[s.Reconstruction]), s)).ToArray());
    }
}
