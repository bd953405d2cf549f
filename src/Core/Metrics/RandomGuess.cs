namespace DefenseBench.Core.Metrics;

/// <summary>
/// Exact expected scores of a random guesser that outputs N labels uniformly and independently over C classes, for a
/// given true count vector n (Σ n = N). The guess counts G are multinomial, so each G_c ~ Binomial(N, 1/C), and by
/// linearity of expectation every metric below is a sum over classes of a binomial expectation — no simulation.
/// A simulation of the same guesser agrees (the tests check it).
/// </summary>
public static class RandomGuess
{
    /// <summary>E[ASR] = (1/N) Σ_c E[min(G_c, n_c)].</summary>
    public static double Asr(int[] truth)
    {
        int n = truth.Sum();
        if (n == 0) return 0;
        var pmf = BinomialPmf(n, 1.0 / truth.Length);
        double matches = 0;
        foreach (int nc in truth)
            for (int g = 0; g <= n; g++) matches += pmf[g] * Math.Min(g, nc);
        return matches / n;
    }

    /// <summary>E[LeAcc] = (1/C) Σ_c P(1[G_c &gt; 0] = 1[n_c &gt; 0]).</summary>
    public static double LeAcc(int[] truth)
    {
        int n = truth.Sum();
        double pAbsent = Math.Pow(1 - 1.0 / truth.Length, n);
        return truth.Average(nc => nc > 0 ? 1 - pAbsent : pAbsent);
    }

    /// <summary>E[LnAcc] = (1/C) Σ_c P(G_c = n_c).</summary>
    public static double LnAcc(int[] truth)
    {
        int n = truth.Sum();
        var pmf = BinomialPmf(n, 1.0 / truth.Length);
        return truth.Average(nc => pmf[nc]);
    }

    /// <summary>P(G = g) for g = 0..n, G ~ Binomial(n, p), computed in log space so large n stays finite.</summary>
    public static double[] BinomialPmf(int n, double p)
    {
        var pmf = new double[n + 1];
        double logP = Math.Log(p), logQ = Math.Log(1 - p);
        double logChoose = 0; // log C(n, 0)
        for (int g = 0; g <= n; g++)
        {
            if (g > 0) logChoose += Math.Log(n - g + 1) - Math.Log(g);
            pmf[g] = Math.Exp(logChoose + g * logP + (n - g) * logQ);
        }
        return pmf;
    }
}
