using DefenseBench.Attacks.IlrgFamily;
using DefenseBench.Attacks.Reconstruction;
using DefenseBench.Attacks.Tests.Support;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Tests.Reconstruction;

/// <summary>Inverting Gradients (docs/attacks.md): its distance, prior, schedule, box, restart choice and labels.</summary>
public sealed class InvertingGradientsTests
{
    private static IAttack Create(params (string Name, object Value)[] parameters)
    {
        var info = AttackCatalog.All.Get("ig");
        return info.Create(ParameterValues.Create(info.Parameters, parameters.ToDictionary(p => p.Name, p => p.Value)));
    }

    /// <summary>Two gradients of a two-tensor model, [1, ...] each: a random list and a second, independent one.</summary>
    private static (Tensor[] A, Tensor[] B) Gradients(ulong seed)
    {
        using var generator = new Generator(seed, torch.CPU);
        Tensor[] Draw() => [torch.randn([1, 3, 4], generator: generator), torch.randn([1, 5], generator: generator)];
        return (Draw(), Draw());
    }

    private static Tensor[] Scaled(IEnumerable<Tensor> tensors, double factor)
    {
        using var scalar = factor.ToScalar();
        return tensors.Select(t => t.mul(scalar)).ToArray();
    }

    private static double Value(Tensor t) => t.to(ScalarType.Float64).item<double>();

    [Fact]
    public void Cosine_distance_is_zero_for_identical_gradients_and_two_for_opposite_ones()
    {
        using var scope = torch.NewDisposeScope();
        var (a, _) = Gradients(1);

        Assert.Equal(0, Value(MatchingLoss.Cosine(a, a)[0]), 6);
        Assert.Equal(2, Value(MatchingLoss.Cosine(a, Scaled(a, -1))[0]), 6);
    }

    [Fact]
    public void Cosine_distance_is_one_minus_the_cosine_of_the_concatenated_layers_and_blind_to_positive_scales()
    {
        using var scope = torch.NewDisposeScope();
        var (a, b) = Gradients(2);
        double[] x = [.. a.SelectMany(t => t.to(ScalarType.Float64).flatten().data<double>())];
        double[] y = [.. b.SelectMany(t => t.to(ScalarType.Float64).flatten().data<double>())];
        double expected = 1 - x.Zip(y, (p, q) => p * q).Sum() / Math.Sqrt(x.Sum(p => p * p)) / Math.Sqrt(y.Sum(q => q * q));

        Assert.Equal(expected, Value(MatchingLoss.Cosine(a, b)[0]), 6);
        Assert.Equal(expected, Value(MatchingLoss.Cosine(Scaled(a, 37), Scaled(b, 0.02))[0]), 6);
    }

    [Fact]
    public void Total_variation_is_the_mean_horizontal_plus_the_mean_vertical_absolute_difference_per_problem()
    {
        using var scope = torch.NewDisposeScope();
        // Problem 0: one 2x3 image [[0, 1, 3], [2, 2, 0]]: horizontal |0-1|, |1-3|, |2-2|, |2-0| average 5/4,
        // vertical |0-2|, |1-2|, |3-0| average 2. Problem 1: the same image doubled, so twice the TV.
        var image = torch.tensor(new float[] { 0, 1, 3, 2, 2, 0 }).reshape(1, 1, 1, 2, 3);
        var two = torch.cat([image, image * 2], 0);

        var tv = MatchingLoss.TotalVariation(two).data<float>().ToArray();

        Assert.Equal(3.25, tv[0], 6);
        Assert.Equal(6.5, tv[1], 6);
    }

    [Fact]
    public void The_rate_drops_tenfold_at_inversefeds_milestones_of_4800_steps()
    {
        Assert.Equal([1799, 3000, 4203], Adam.Milestones(4800));
        Assert.Equal(0.1, Adam.DecayedRate(0.1, 0, 4800), 12);
        Assert.Equal(0.1, Adam.DecayedRate(0.1, 1798, 4800), 12);
        Assert.Equal(0.01, Adam.DecayedRate(0.1, 1799, 4800), 12);
        Assert.Equal(0.001, Adam.DecayedRate(0.1, 3000, 4800), 12);
        Assert.Equal(0.0001, Adam.DecayedRate(0.1, 4203, 4800), 12);
        Assert.Equal(0.0001, Adam.DecayedRate(0.1, 4799, 4800), 12);
    }

    // Milestones that differ: TorchSharp's port of MultiStepLR agrees with PyTorch's there.
    [Theory]
    [InlineData(8)]
    [InlineData(200)]
    public void The_step_decay_gives_every_step_the_rate_of_multisteplr_stepped_after_each_optimiser_step(int iterations)
    {
        using var scope = torch.NewDisposeScope();
        var parameter = new TorchSharp.Modules.Parameter(torch.zeros(1));
        var sgd = torch.optim.SGD([parameter], 0.1);
        var schedule = torch.optim.lr_scheduler.MultiStepLR(sgd, Adam.Milestones(iterations), 0.1);
        for (int step = 0; step < iterations; step++)
        {
            Assert.Equal(schedule.get_last_lr().Single(), Adam.DecayedRate(0.1, step, iterations), 12);
            sgd.step();
            schedule.step();
        }
    }

    // PyTorch's MultiStepLR keeps its milestones in a Counter and multiplies by gamma ** count at a milestone listed
    // twice; 3 steps give [1, 1, 2]. (TorchSharp 0.107's port decays once there.)
    [Fact]
    public void A_milestone_listed_twice_decays_twice_as_in_pytorch()
    {
        Assert.Equal([1, 1, 2], Adam.Milestones(3));
        Assert.Equal(0.1, Adam.DecayedRate(0.1, 0, 3), 12);
        Assert.Equal(0.001, Adam.DecayedRate(0.1, 1, 3), 12);
        Assert.Equal(0.0001, Adam.DecayedRate(0.1, 2, 3), 12);
    }

    [Fact]
    public void Reconstructed_pixels_stay_in_the_data_range()
    {
        var spec = AttackRun.Scenario(2, LabelDistribution.Iid);

        var (outcome, _) = AttackRun.Outcome(Create(("iterations", 5), ("labels", "joint")), spec, 0);

        var pixels = outcome.Images[0].Images.SelectMany(i => i).ToArray();
        Assert.All(pixels, p => Assert.InRange(p, 0f, 1f));
        Assert.Contains(pixels, p => p is > 0f and < 1f);
    }

    [Fact]
    public void Boxing_clamps_pixels_to_zero_and_one()
    {
        using var scope = torch.NewDisposeScope();
        var images = torch.tensor(new float[] { -2, 0.25f, 1, 7 });

        GradientMatcher.Box(images);

        Assert.Equal([0, 0.25f, 1, 1], images.data<float>().ToArray());
    }

    /// <summary>The victim of one trial with its true label fixed (as analytic labels fix it), drawing restart seeds from <paramref name="rng"/>.</summary>
    private static MatchVictim Victim(int trial, Rng rng)
    {
        var spec = AttackRun.Scenario(1, LabelDistribution.Iid);
        var round = VictimRound.Create(spec, DatasetCatalog.Open(spec.Dataset), trial, torch.CPU);
        var upload = round.Uploads()[0];
        int[] labels = [.. round.Clients[0].StepBatches[0].Labels.cpu().data<long>().Select(l => (int)l)];
        return new MatchVictim(round.Model, round.Model.ParameterNames.Select(n => upload[n]).ToArray(), 1, labels, rng);
    }

    private static readonly MatchSettings Settings = new(MatchOptimizer.Adam, 0.1, 20, 1) { Signed = true, StepDecay = true, Boxed = true };

    private static IReadOnlyList<MatchResult> Solve(MatchSettings settings, IReadOnlyList<MatchVictim> victims) =>
        new GradientMatcher(settings).Reconstruct(victims, ImageShape.Mnist, (targets, _) => new CosineMatch(targets, 0.1));

    [Fact]
    public void The_restart_kept_is_the_one_with_the_lowest_cosine_distance_without_the_prior()
    {
        using var scope = torch.NewDisposeScope();
        // Restart seeds are drawn from the victim's stream in order, so three one-restart victims sharing a stream run
        // exactly the three restarts of one victim.
        var shared = new Rng(5);
        var runs = Solve(Settings, [Victim(0, shared), Victim(0, shared), Victim(0, shared)]);
        var victim = Victim(0, new Rng(5));

        var kept = Solve(Settings with { Restarts = 3 }, [victim])[0];

        var best = runs.MinBy(r => r.Loss)!;
        Assert.True(runs.Select(r => r.Loss).Distinct().Count() == 3, "the restarts should end at different losses");
        Assert.Equal(best.Loss, kept.Loss, 6);
        Assert.Equal(best.Images[0], kept.Images[0]);
        // The loss reported (and ranked) is the cosine distance of the kept images' gradient alone, no TV.
        var x = torch.tensor(kept.Images[0]).reshape(ImageShape.Mnist.BatchDims(1));
        var grads = torch.autograd.grad([nn.functional.cross_entropy(victim.Model.forward(x), torch.tensor(new long[] { victim.Labels![0] }))],
            victim.Model.parameters().ToArray());
        double cosine = Value(MatchingLoss.Cosine(grads.Select(g => g.unsqueeze(0)).ToArray(), victim.Target.Select(t => t.unsqueeze(0)).ToArray())[0]);
        Assert.Equal(cosine, kept.Loss, 5);
    }

    [Fact]
    public void Analytic_labels_of_a_single_image_are_idlgs()
    {
        var spec = AttackRun.Scenario(1, LabelDistribution.Iid);
        for (int trial = 0; trial < 3; trial++)
        {
            using var scope = torch.NewDisposeScope();
            var round = VictimRound.Create(spec, DatasetCatalog.Open(spec.Dataset), trial, torch.CPU);
            int idlg = Idlg.Label(round.Uploads()[0], 1, "idlg");

            var (outcome, _) = AttackRun.Outcome(Create(("iterations", 1)), spec, trial);

            Assert.Equal(1, outcome.Labels[0].Counts[idlg]);
        }
    }

    [Fact]
    public void Analytic_labels_of_a_batch_are_ilrgs_counts_summed_to_the_batch()
    {
        var spec = AttackRun.Scenario(4, LabelDistribution.Iid);
        for (int trial = 0; trial < 3; trial++)
        {
            var expected = AttackRun.Run(new Ilrg(sumToBatch: true), spec, trial).Predicted;

            var (outcome, _) = AttackRun.Outcome(Create(("iterations", 1)), spec, trial);

            Assert.Equal(expected, outcome.Labels[0].Counts);
            Assert.Equal(4, outcome.Labels[0].Counts.Sum());
        }
    }

    [Fact]
    public void Analytic_labels_of_a_batch_after_several_local_steps_are_not_applicable()
    {
        var spec = AttackRun.Scenario(4, LabelDistribution.Iid, new FedAvg(2, 0.01));

        Assert.Throws<NotApplicableException>(() => AttackRun.Outcome(Create(("iterations", 1)), spec, 0));
    }

    [Fact]
    public void Counts_expand_to_one_label_per_image_in_class_order() =>
        Assert.Equal([1, 1, 3, 4, 4, 4], AnalyticLabels.Expand([0, 2, 0, 1, 3]));
}
