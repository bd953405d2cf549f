namespace DefenseBench.Core.Metrics;

/// <summary>Label-leakage metrics over count vectors n̂ (recovered) and n (true), both of length C.</summary>
public static class LabelMetrics
{
    /// <summary>
    /// LLG's attack success rate: |multiset(pred) ∩ multiset(true)| / |pred| (greedy matching with removal is the
    /// multiset intersection; the LLG code divides by the number of predictions, which plain LLG can exceed N with).
    /// </summary>
    public static double Asr(int[] predicted, int[] truth)
    {
        Check(predicted, truth);
        int total = predicted.Sum();
        return total == 0 ? 0 : (double)Matches(predicted, truth) / total;
    }

    /// <summary>iLRG's LeAcc: share of all C classes whose presence (n̂_c &gt; 0) is right.</summary>
    public static double LeAcc(int[] predicted, int[] truth)
    {
        Check(predicted, truth);
        return predicted.Zip(truth).Count(p => p.First > 0 == p.Second > 0) / (double)truth.Length;
    }

    /// <summary>iLRG's LnAcc: share of all C classes whose count is exactly right.</summary>
    public static double LnAcc(int[] predicted, int[] truth)
    {
        Check(predicted, truth);
        return predicted.Zip(truth).Count(p => p.First == p.Second) / (double)truth.Length;
    }

    /// <summary>iLRG's IRec: Σ over present classes of min(n̂_c, n_c), divided by the number of true labels K.</summary>
    public static double IRec(int[] predicted, int[] truth)
    {
        Check(predicted, truth);
        int total = truth.Sum();
        return total == 0 ? 0 : (double)Matches(predicted, truth) / total;
    }

    /// <summary>Σ_c min(n̂_c, n_c): the size of the multiset intersection.</summary>
    public static int Matches(int[] predicted, int[] truth) => predicted.Zip(truth).Sum(p => Math.Min(p.First, p.Second));

    /// <summary>Counts per class from a list of labels.</summary>
    public static int[] Counts(IEnumerable<int> labels, int numClasses)
    {
        var counts = new int[numClasses];
        foreach (int label in labels) counts[label]++;
        return counts;
    }

    private static void Check(int[] predicted, int[] truth)
    {
        if (predicted.Length != truth.Length)
            throw new ArgumentException($"count vectors differ in length ({predicted.Length} vs {truth.Length})");
    }
}
