using System.Globalization;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Running;

/// <summary>Scores an attack's outcome against the ground truth, which only the scorer sees.</summary>
public static class Scoring
{
    /// <summary>Label metrics per target (a client, or the aggregate = all clients' counts), averaged over targets.</summary>
    public static CellRow ScoreLabels(CellRow row, AttackOutcome outcome, VictimRound round)
    {
        if (outcome.Labels.Count == 0) return row;
        var scores = outcome.Labels.Select(recovery =>
        {
            int[] truth = recovery.Target == LabelRecovery.Aggregate
                ? Enumerable.Range(0, round.Spec.NumClasses).Select(c => round.Clients.Sum(k => k.TrueCounts[c])).ToArray()
                : round.Clients[recovery.Target].TrueCounts;
            int[] predicted = recovery.Counts;
            return new[]
            {
                LabelMetrics.Asr(predicted, truth), RandomGuess.Asr(truth),
                LabelMetrics.LeAcc(predicted, truth), RandomGuess.LeAcc(truth),
                LabelMetrics.LnAcc(predicted, truth), RandomGuess.LnAcc(truth),
                LabelMetrics.IRec(predicted, truth),
            };
        }).ToArray();
        double Mean(int i) => scores.Average(s => s[i]);
        return row with
        {
            Asr = Mean(0), AsrRandom = Mean(1), LeAcc = Mean(2), LeAccRandom = Mean(3), LnAcc = Mean(4), LnAccRandom = Mean(5), IRec = Mean(6),
            Extras = Extras(outcome),
        };
    }

    private static string Extras(AttackOutcome outcome) =>
        string.Join(";", outcome.Extras.Select(kv => $"{kv.Key}={kv.Value.ToString("R", CultureInfo.InvariantCulture)}"));
}
