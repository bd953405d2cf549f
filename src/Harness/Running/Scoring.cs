using System.Globalization;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Running;

/// <summary>Scores an attack's outcome against the ground truth, which only the scorer sees.</summary>
public static class Scoring
{
    /// <summary>
    /// Label metrics per target (a client, or the aggregate = all clients' counts), averaged over targets. An attack
    /// that recovers only which classes are present is scored on LeAcc alone; its count metrics stay empty.
    /// </summary>
    public static CellRow ScoreLabels(CellRow row, AttackOutcome outcome, VictimRound round)
    {
        if (outcome.Labels.Count == 0) return row;
        var scores = outcome.Labels.Select(recovery =>
        {
            int[] truth = TrueCounts(round, recovery.Target);
            int[] predicted = recovery.Counts;
            return new double?[]
            {
                LabelMetrics.Asr(predicted, truth), RandomGuess.Asr(truth),
                LabelMetrics.LeAcc(predicted, truth), RandomGuess.LeAcc(truth),
                LabelMetrics.LnAcc(predicted, truth), RandomGuess.LnAcc(truth),
                LabelMetrics.IRec(predicted, truth),
            };
        }).ToArray();
        bool existenceOnly = outcome.Labels.All(l => l.ExistenceOnly);
        double? Mean(int i) => existenceOnly && i is not (2 or 3) ? null : scores.Average(s => s[i]);
        return row with
        {
            Asr = Mean(0), AsrRandom = Mean(1), LeAcc = Mean(2), LeAccRandom = Mean(3), LnAcc = Mean(4), LnAccRandom = Mean(5), IRec = Mean(6),
            Extras = Extras(outcome),
        };
    }

    /// <summary>The true counts behind a target: one client's, or the sum over clients for the aggregate.</summary>
    public static int[] TrueCounts(VictimRound round, int target) => target == LabelRecovery.Aggregate
        ? Enumerable.Range(0, round.Spec.NumClasses).Select(c => round.Clients.Sum(k => k.TrueCounts[c])).ToArray()
        : round.Clients[target].TrueCounts;

    /// <summary>
    /// An attack's diagnostics (fishing's condition number and residual, say) to six significant digits: they are for
    /// reading, and their last bits depend on libtorch's reduction order, which differs between a sharded and a whole run.
    /// </summary>
    private static string Extras(AttackOutcome outcome) =>
        string.Join(";", outcome.Extras.Select(kv => $"{kv.Key}={kv.Value.ToString("G6", CultureInfo.InvariantCulture)}"));
}
