using DefenseBench.Core.Data;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses;
using DefenseBench.Defenses.Compression;
using DefenseBench.Defenses.Noise;
using DefenseBench.Defenses.Privacy;
using DefenseBench.Harness.Utility;
using TorchSharp;

namespace DefenseBench.Harness.Tests.Utility;

/// <summary>A small FL setting whose data is loaded once for the tests of this class.</summary>
public sealed class SmallFederation : IDisposable
{
    public static readonly UtilitySettings Settings = new(3, 3, 4, 3, 0.1, 8, null, 300, 200);

    public SmallFederation()
    {
        Dataset = DatasetCatalog.Open("synthetic-mnist");
        Data = UtilityData.Load(Dataset, Settings, 11, torch.CPU);
    }

    public IImageDataset Dataset { get; }
    public UtilityData Data { get; }

    public UtilityRun Train(params IDefense[] stages) => Train(Settings, stages);

    public UtilityRun Train(UtilitySettings settings, params IDefense[] stages) =>
        UtilityTraining.Run(Data, "fcn3", Dataset.Shape, 10, DefensePipeline.From(stages), settings, 11, torch.CPU);

    public void Dispose() => Data.Dispose();
}

public sealed class UtilityTrainingTests(SmallFederation federation) : IClassFixture<SmallFederation>
{
    [Fact]
    public void A_training_is_a_function_of_its_seed()
    {
        Assert.Equal(federation.Train(DefenseCatalog.DpSgd(1, 1)), federation.Train(DefenseCatalog.DpSgd(1, 1)));
    }

    [Fact]
    public void Dp_fedavg_with_clients_drawn_by_poisson_sampling_trains_reproducibly_along_the_clean_direction()
    {
        // 2 of 3 clients per round: DP-FedAvg samples each client at q = 2/3 and rescales the mean to the expected count.
        var sampled = SmallFederation.Settings with { ClientsPerRound = 2, Rounds = 6 };
        var run = federation.Train(sampled, DefenseCatalog.DpFedAvg(1e6, 0));

        Assert.Equal(run, federation.Train(sampled, DefenseCatalog.DpFedAvg(1e6, 0)));
        Assert.True(run.Accuracy > 0.3, $"accuracy {run.Accuracy} after {sampled.Rounds} rounds is no better than guessing");
        // Without noise or clipping the rescaled aggregate points where the clean mean of the drawn clients does.
        Assert.Equal(1.0, run.UpdateCosine, 6);
    }

    [Fact]
    public void Undefended_training_learns_and_its_update_is_its_own_clean_update()
    {
        var run = federation.Train();

        Assert.True(run.Accuracy > 0.3, $"accuracy {run.Accuracy} after {SmallFederation.Settings.Rounds} rounds is no better than guessing");
        Assert.Equal(1.0, run.UpdateCosine, 12);
    }

    [Fact]
    public void A_defence_that_changes_nothing_trains_the_same_model()
    {
        var none = federation.Train();

        Assert.Equal(none, federation.Train(DefenseCatalog.TopK(1.0, TopKScope.Layer, true)));
        // DP-SGD samples its batches by Poisson sampling unless asked for fixed sizes, so only then does it draw the same.
        var fixedSize = SmallFederation.Settings with { FixedSize = true };
        Assert.Equal(federation.Train(fixedSize), federation.Train(fixedSize, DefenseCatalog.DpSgd(double.PositiveInfinity, 0)));
        Assert.NotEqual(none.Accuracy, federation.Train(DefenseCatalog.DpSgd(double.PositiveInfinity, 0)).Accuracy);
        Assert.Equal(none, federation.Train(DefenseCatalog.DpFedAvg(double.PositiveInfinity, 0)) with { UpdateCosine = 1.0 });
    }

    [Fact]
    public void Overwhelming_noise_ruins_accuracy_and_the_update_direction()
    {
        var none = federation.Train();
        var noisy = federation.Train(DefenseCatalog.AdditiveNoise(1.0, NoiseDistribution.Gaussian));

        Assert.True(noisy.Accuracy < none.Accuracy - 0.1, $"noise(scale=1) kept accuracy {noisy.Accuracy} against {none.Accuracy}");
        Assert.True(noisy.UpdateCosine < 0.9, $"noise(scale=1) kept the update direction (cosine {noisy.UpdateCosine})");
    }

    [Fact]
    public void A_training_driven_to_infinity_stops_and_counts_no_prediction_of_the_broken_model_as_right()
    {
        // Noise of std 1e38 overflows float32 once the learning rate's step is taken: the aggregate is not finite.
        var run = federation.Train(DefenseCatalog.AdditiveNoise(1e38, NoiseDistribution.Gaussian));

        Assert.NotNull(run.DivergedAt);
        Assert.Equal(0, run.Accuracy);
        Assert.True(double.IsFinite(run.UpdateCosine), $"cosine {run.UpdateCosine} is not a number");
    }

    [Fact]
    public void A_training_that_stays_finite_never_reports_divergence()
    {
        Assert.Null(federation.Train(DefenseCatalog.DpSgd(1, 1)).DivergedAt);
    }

    [Fact]
    public void Top_k_keeps_part_of_the_update_direction()
    {
        var sparse = federation.Train(DefenseCatalog.TopK(0.1, TopKScope.Layer, false));

        Assert.InRange(sparse.UpdateCosine, 0.2, 0.999);
    }

    [Fact]
    public void The_run_shape_records_the_smallest_clients_examples_and_the_update_tensors()
    {
        var shape = federation.Train().Shape;

        Assert.Equal(new TrainingShape(3, 3, 4, 3, 8, 100, 6), shape);
    }

    [Fact]
    public void Clients_per_round_are_drawn_without_replacement()
    {
        var rng = new Rng(12);
        for (int trial = 0; trial < 50; trial++)
        {
            var chosen = UtilityTraining.Choose(10, 4, rng);
            Assert.Equal(4, chosen.Distinct().Count());
            Assert.All(chosen, k => Assert.InRange(k, 0, 9));
            Assert.Equal(chosen.Order(), chosen);
        }
        Assert.Equal([0, 1, 2], UtilityTraining.Choose(3, 3, rng));
    }

    [Fact]
    public void The_cache_trains_each_setting_once_and_measures_the_drop_against_no_defence()
    {
        using var log = new StringWriter();
        using var cache = new UtilityCache(torch.CPU, log);
        var scenario = new ScenarioSpec("synthetic-mnist", 10, "fcn3", 4, LabelDistribution.Iid, 1, new FedSgd(), TrainingStage.Untrained);
        var noise = DefensePipeline.From([DefenseCatalog.AdditiveNoise(0.3, NoiseDistribution.Gaussian)]);

        var first = cache.Measure(federation.Dataset, scenario, SmallFederation.Settings, noise);
        var again = cache.Measure(federation.Dataset, scenario with { BatchSize = 64 }, SmallFederation.Settings, noise);
        var none = cache.Measure(federation.Dataset, scenario, SmallFederation.Settings, DefensePipeline.None);

        Assert.Equal(first, again);
        Assert.Equal(0, none.Drop);
        Assert.Equal(none.Accuracy - first.Accuracy, first.Drop, 12);
        Assert.Equal(2, log.ToString().Split('\n').Count(l => l.StartsWith("utility ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(0.032)]
    [InlineData(0.25)]
    public void The_poisson_sampler_includes_each_item_at_rate_q_within_three_standard_errors(double q)
    {
        const int draws = 10_000;
        var rng = new Rng(17);
        int[] items = [0, 1, 2, 3, 4];
        var included = new int[items.Length];
        for (int d = 0; d < draws; d++)
            foreach (int i in UtilityTraining.PoissonSample(items, q, rng)) included[i]++;

        double se = Math.Sqrt(q * (1 - q) / draws);
        Assert.InRange(included[0] / (double)draws, q - 3 * se, q + 3 * se);
        double pooled = included.Sum() / (double)(draws * items.Length);
        Assert.InRange(pooled, q - 3 * se / Math.Sqrt(items.Length), q + 3 * se / Math.Sqrt(items.Length));
    }

    [Fact]
    public void Fixed_size_batches_are_marked_in_the_privacy_column_as_not_covered_by_the_accountant()
    {
        var pipeline = DefensePipeline.From([DefenseCatalog.DpSgd(1, 1)]);
        var poisson = PipelinePrivacy.For(pipeline, new TrainingShape(4, 4, 5, 5, 16, 500, 6), 1e-5)!;
        var fixedSize = PipelinePrivacy.For(pipeline, new TrainingShape(4, 4, 5, 5, 16, 500, 6, FixedSize: true), 1e-5)!;

        Assert.EndsWith(";sampling=poisson", poisson.Describe(), StringComparison.Ordinal);
        Assert.EndsWith(";sampling=fixed(not covered by the accountant)", fixedSize.Describe(), StringComparison.Ordinal);
        Assert.Equal(poisson.Spent.Epsilon, fixedSize.Spent.Epsilon);
    }
}
