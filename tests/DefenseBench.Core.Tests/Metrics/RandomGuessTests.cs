using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Core.Tests.Metrics;

public sealed class RandomGuessTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(100)]
    public void One_label_is_guessed_with_probability_one_over_c(int classes)
    {
        var truth = new int[classes];
        truth[classes / 2] = 1;

        Assert.Equal(1.0 / classes, RandomGuess.Asr(truth), 1e-12);
    }

    /// <summary>Truth count vectors as the benchmark draws them: IID uniform labels or LLG's non-IID batches.</summary>
    private static double MeanAsr(int classes, int batchSize, LabelDistribution distribution, int truths, ulong seed)
    {
        var rng = new Rng(seed);
        double total = 0;
        for (int t = 0; t < truths; t++)
        {
            var dominant = LabelDistributions.DominantClasses(classes, rng);
            var labels = distribution.Draw(batchSize, classes, dominant, rng);
            total += RandomGuess.Asr(LabelMetrics.Counts(labels, classes));
        }
        return total / truths;
    }

    /// <summary>A simulated random-guess baseline of the LLG setting (4000 trials), within ±0.02.</summary>
    [Theory]
    [InlineData(10, false, 8, 0.45)]
    [InlineData(10, false, 64, 0.79)]
    [InlineData(10, true, 32, 0.38)]
    [InlineData(10, true, 128, 0.40)]
    [InlineData(100, false, 64, 0.38)]
    [InlineData(100, false, 128, 0.53)]
    [InlineData(100, true, 64, 0.13)]
    public void Expected_asr_matches_the_simulated_table(int classes, bool nonIid, int batchSize, double simulated)
    {
        var distribution = nonIid ? LabelDistribution.NonIid : LabelDistribution.Iid;

        double mean = MeanAsr(classes, batchSize, distribution, truths: 1000, seed: (ulong)(classes * 1000 + batchSize));

        Assert.True(Math.Abs(mean - simulated) <= 0.02, $"C={classes} {distribution.Canonical()} B={batchSize}: {mean:F4} vs {simulated}");
    }

    /// <summary>Brute force: guess N labels uniformly, score them, average; the closed forms must agree.</summary>
    [Fact]
    public void Closed_forms_agree_with_simulated_random_guessing()
    {
        int[] truth = [3, 1, 0, 0];
        const int classes = 4, n = 4, trials = 100_000;
        var rng = new Rng(2024);
        double asr = 0, leAcc = 0, lnAcc = 0, iRec = 0;
        var guess = new int[classes];
        for (int t = 0; t < trials; t++)
        {
            Array.Clear(guess);
            for (int i = 0; i < n; i++) guess[rng.NextInt(classes)]++;
            asr += LabelMetrics.Asr(guess, truth);
            leAcc += LabelMetrics.LeAcc(guess, truth);
            lnAcc += LabelMetrics.LnAcc(guess, truth);
            iRec += LabelMetrics.IRec(guess, truth);
        }

        Assert.Equal(RandomGuess.Asr(truth), asr / trials, 0.01);
        Assert.Equal(RandomGuess.LeAcc(truth), leAcc / trials, 0.01);
        Assert.Equal(RandomGuess.LnAcc(truth), lnAcc / trials, 0.01);
        // The guesser outputs exactly N labels, so IRec and ASR coincide.
        Assert.Equal(RandomGuess.Asr(truth), iRec / trials, 0.01);
    }

    [Fact]
    public void Closed_forms_match_exact_enumeration_for_a_small_case()
    {
        // All 4^4 equally likely guesses of 4 labels over 4 classes.
        int[] truth = [3, 1, 0, 0];
        double asr = 0, leAcc = 0, lnAcc = 0;
        for (int code = 0; code < 256; code++)
        {
            var guess = new int[4];
            for (int i = 0, c = code; i < 4; i++, c /= 4) guess[c % 4]++;
            asr += LabelMetrics.Asr(guess, truth) / 256;
            leAcc += LabelMetrics.LeAcc(guess, truth) / 256;
            lnAcc += LabelMetrics.LnAcc(guess, truth) / 256;
        }

        Assert.Equal(asr, RandomGuess.Asr(truth), 1e-12);
        Assert.Equal(leAcc, RandomGuess.LeAcc(truth), 1e-12);
        Assert.Equal(lnAcc, RandomGuess.LnAcc(truth), 1e-12);
    }

    [Fact]
    public void Binomial_pmf_sums_to_one_for_large_n()
    {
        var pmf = RandomGuess.BinomialPmf(4096, 1.0 / 100);

        Assert.Equal(4097, pmf.Length);
        Assert.All(pmf, p => Assert.True(double.IsFinite(p) && p >= 0));
        Assert.Equal(1.0, pmf.Sum(), 1e-9);
        Assert.Equal(40.96, pmf.Select((p, g) => p * g).Sum(), 1e-6);
    }

    [Fact]
    public void Binomial_pmf_of_a_small_case_is_exact()
    {
        Assert.Equal([0.125, 0.375, 0.375, 0.125], RandomGuess.BinomialPmf(3, 0.5).Select(p => Math.Round(p, 12)));
        Assert.Equal([1.0], RandomGuess.BinomialPmf(0, 0.3));
    }

    [Fact]
    public void An_empty_truth_has_zero_expected_asr()
    {
        Assert.Equal(0.0, RandomGuess.Asr([0, 0, 0]));
    }
}
