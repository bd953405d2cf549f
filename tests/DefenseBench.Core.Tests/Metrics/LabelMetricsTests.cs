using DefenseBench.Core.Metrics;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Core.Tests.Metrics;

public sealed class LabelMetricsTests
{
    [Fact]
    public void Scores_of_a_partly_right_prediction_match_hand_computation()
    {
        int[] truth = [2, 1, 0, 1];     // labels {0, 0, 1, 3}
        int[] predicted = [1, 2, 1, 0]; // labels {0, 1, 1, 2}

        // Multiset intersection {0, 1}: 2 of 4 predictions.
        Assert.Equal(2, LabelMetrics.Matches(predicted, truth));
        Assert.Equal(0.5, LabelMetrics.Asr(predicted, truth), 1e-12);
        // Presence right for classes 0 and 1, wrong for 2 (predicted, absent) and 3 (missed).
        Assert.Equal(0.5, LabelMetrics.LeAcc(predicted, truth), 1e-12);
        // No count is exactly right.
        Assert.Equal(0.0, LabelMetrics.LnAcc(predicted, truth), 1e-12);
        Assert.Equal(0.5, LabelMetrics.IRec(predicted, truth), 1e-12);
    }

    [Fact]
    public void More_predictions_than_labels_divide_asr_by_the_predictions_and_irec_by_the_truth()
    {
        int[] truth = [2, 1, 0, 0];     // 3 labels
        int[] predicted = [2, 2, 1, 1]; // 6 labels

        Assert.Equal(3, LabelMetrics.Matches(predicted, truth));
        Assert.Equal(3.0 / 6, LabelMetrics.Asr(predicted, truth), 1e-12);
        Assert.Equal(3.0 / 3, LabelMetrics.IRec(predicted, truth), 1e-12);
        Assert.Equal(2.0 / 4, LabelMetrics.LeAcc(predicted, truth), 1e-12);
        Assert.Equal(1.0 / 4, LabelMetrics.LnAcc(predicted, truth), 1e-12);
    }

    [Fact]
    public void Fewer_predictions_than_labels()
    {
        int[] truth = [0, 3, 1, 0, 0];
        int[] predicted = [0, 1, 0, 0, 0];

        Assert.Equal(1.0, LabelMetrics.Asr(predicted, truth), 1e-12);
        Assert.Equal(0.25, LabelMetrics.IRec(predicted, truth), 1e-12);
        Assert.Equal(0.8, LabelMetrics.LeAcc(predicted, truth), 1e-12);
        Assert.Equal(0.6, LabelMetrics.LnAcc(predicted, truth), 1e-12);
    }

    [Fact]
    public void A_perfect_prediction_scores_one_everywhere()
    {
        int[] truth = [0, 4, 0, 1, 3];

        Assert.Equal(1.0, LabelMetrics.Asr(truth, truth));
        Assert.Equal(1.0, LabelMetrics.LeAcc(truth, truth));
        Assert.Equal(1.0, LabelMetrics.LnAcc(truth, truth));
        Assert.Equal(1.0, LabelMetrics.IRec(truth, truth));
    }

    [Fact]
    public void Absent_classes_inflate_leacc_and_lnacc_but_not_asr()
    {
        // One wrong label among 100 classes: 98 absent classes agree.
        var truth = new int[100];
        var predicted = new int[100];
        truth[7] = 1;
        predicted[8] = 1;

        Assert.Equal(0.0, LabelMetrics.Asr(predicted, truth));
        Assert.Equal(0.0, LabelMetrics.IRec(predicted, truth));
        Assert.Equal(0.98, LabelMetrics.LeAcc(predicted, truth), 1e-12);
        Assert.Equal(0.98, LabelMetrics.LnAcc(predicted, truth), 1e-12);
    }

    [Fact]
    public void An_empty_prediction_has_zero_asr()
    {
        Assert.Equal(0.0, LabelMetrics.Asr([0, 0, 0], [1, 0, 2]));
        Assert.Equal(0.0, LabelMetrics.IRec([0, 0, 0], [1, 0, 2]));
    }

    [Fact]
    public void Count_vectors_of_different_lengths_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => LabelMetrics.Asr([1, 0], [1, 0, 0]));
        Assert.Throws<ArgumentException>(() => LabelMetrics.LeAcc([1, 0], [1, 0, 0]));
        Assert.Throws<ArgumentException>(() => LabelMetrics.LnAcc([1, 0], [1, 0, 0]));
        Assert.Throws<ArgumentException>(() => LabelMetrics.IRec([1, 0], [1, 0, 0]));
    }

    [Fact]
    public void Counts_tally_labels_per_class()
    {
        Assert.Equal([2, 0, 1, 3], LabelMetrics.Counts([3, 0, 3, 2, 0, 3], 4));
        Assert.Equal([0, 0, 0], LabelMetrics.Counts([], 3));
    }

    [Fact]
    public void Asr_equals_greedy_matching_with_removal()
    {
        // The LLG code's matching: for each prediction, remove one equal true label if any is left.
        var rng = new Rng(21);
        for (int trial = 0; trial < 200; trial++)
        {
            int classes = 1 + rng.NextInt(6);
            var truthLabels = Enumerable.Range(0, 1 + rng.NextInt(12)).Select(_ => rng.NextInt(classes)).ToList();
            var predLabels = Enumerable.Range(0, 1 + rng.NextInt(12)).Select(_ => rng.NextInt(classes)).ToList();
            var remaining = new List<int>(truthLabels);
            int hits = predLabels.Count(p => remaining.Remove(p));

            double asr = LabelMetrics.Asr(LabelMetrics.Counts(predLabels, classes), LabelMetrics.Counts(truthLabels, classes));

            Assert.Equal((double)hits / predLabels.Count, asr, 1e-12);
        }
    }
}
