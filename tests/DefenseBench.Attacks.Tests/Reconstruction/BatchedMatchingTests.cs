using DefenseBench.Attacks.Reconstruction;
using DefenseBench.Attacks.Tests.Support;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Tests.Reconstruction;

/// <summary>
/// Problems solved together follow the trajectories they follow alone: the per-problem dummy gradients and distances of
/// a stacked set equal separate runs', and batched L-BFGS and Adam reach each problem's solo loss.
/// </summary>
public sealed class BatchedMatchingTests(ITestOutputHelper output)
{
    // The issue's tolerance: each problem's loss after 10 optimiser steps within 1e-4 relative of its solo run (float32).
    private const double TrajectoryTolerance = 1e-4;

    /// <summary>The victim of one trial: the server's model and the client's FedSGD gradient as the target.</summary>
    private static MatchVictim Victim(string model, string dataset, int batchSize, int trial, bool fixedLabels)
    {
        var spec = AttackRun.Scenario(batchSize, LabelDistribution.Iid, model: model, dataset: dataset);
        var round = VictimRound.Create(spec, DatasetCatalog.Open(dataset), trial, torch.CPU);
        var upload = round.Uploads()[0];
        int[]? labels = fixedLabels ? round.Clients[0].StepBatches[0].Labels.cpu().data<long>().Select(l => (int)l).ToArray() : null;
        return new MatchVictim(round.Model, round.Model.ParameterNames.Select(n => upload[n]).ToArray(), batchSize, labels, Rng.For(round.Seed, "attack"));
    }

    /// <summary>D and its gradient with respect to the dummy inputs, per problem, for a set of <paramref name="victims"/>.</summary>
    private static (double[] Loss, Tensor InputGrad) Evaluate(IReadOnlyList<MatchVictim> victims, ImageShape shape, out bool stacked)
    {
        var problems = victims.Select(v => new MatchProblem(v.Model, v.Labels, v.Rng.NextTorchSeed())).ToArray();
        var targets = MatchObjective.Stack(victims.Select(v => v.Target).ToArray());
        var set = new ProblemSet(problems, victims[0].BatchSize, shape, new GradientMatch(targets), null);
        var loss = set.Evaluate(set.Dummies);
        stacked = set.IsStacked;
        return (loss.detach().to(ScalarType.Float64).data<double>().ToArray(), set.Inputs.grad!.detach().clone());
    }

    public static TheoryData<string> Models => new(ModelCatalog.All.Ids);

    [Theory]
    [MemberData(nameof(Models))]
    public void Per_problem_distances_and_dummy_gradients_of_a_set_equal_each_problem_run_alone(string model)
    {
        using var scope = torch.NewDisposeScope();
        // VGG and ResNet need 32x32 inputs; B = 2 so that train-mode batch norm has more than one value per channel.
        string dataset = model.StartsWith("vgg", StringComparison.Ordinal) || model == "resnet18" ? "synthetic-cifar100" : "synthetic-mnist";
        var shape = DatasetCatalog.ShapeOf(dataset)!;
        MatchVictim[] Victims() => Enumerable.Range(0, 3).Select(trial => Victim(model, dataset, 2, trial, fixedLabels: false)).ToArray();

        var (loss, grad) = Evaluate(Victims(), shape, out bool stacked);
        var solo = Victims().Select(v => Evaluate([v], shape, out _)).ToArray();

        double worstLoss = 0, worstGrad = 0;
        for (int p = 0; p < solo.Length; p++)
        {
            worstLoss = Math.Max(worstLoss, Math.Abs(loss[p] - solo[p].Loss[0]) / Math.Abs(solo[p].Loss[0]));
            worstGrad = Math.Max(worstGrad, (grad[p] - solo[p].InputGrad[0]).norm().item<float>() / solo[p].InputGrad[0].norm().item<float>());
        }
        output.WriteLine($"{model} ({(stacked ? "stacked" : "problem by problem")}): D relative error {worstLoss:E2}, dummy-gradient relative error {worstGrad:E2}");
        Assert.Equal(ModelCatalog.Create(model, shape, 10, 0, torch.CPU).CanStack, stacked);
        Assert.True(worstLoss <= 1e-5, $"D relative error {worstLoss:E2}");
        Assert.True(worstGrad <= 1e-4, $"dummy-gradient relative error {worstGrad:E2}");
    }

    private static IReadOnlyList<MatchResult> Solve(MatchSettings settings, IReadOnlyList<MatchVictim> victims, ObjectiveFactory? objective = null) =>
        new GradientMatcher(settings).Reconstruct(victims, ImageShape.Mnist, objective ?? ((targets, _) => new GradientMatch(targets)));

    private void AssertSameTrajectories(MatchSettings settings, Func<MatchVictim[]> victims, double tolerance = TrajectoryTolerance,
        ObjectiveFactory? objective = null)
    {
        using var scope = torch.NewDisposeScope();
        var together = Solve(settings, victims(), objective);
        var alone = Solve(settings with { MaxProblems = 1 }, victims(), objective);
        for (int p = 0; p < alone.Count; p++)
        {
            double relative = together[p].Loss == alone[p].Loss ? 0 : Math.Abs(together[p].Loss - alone[p].Loss) / Math.Abs(alone[p].Loss);
            output.WriteLine($"problem {p}: alone {alone[p].Loss:E6}, together {together[p].Loss:E6}, relative {relative:E2}");
            Assert.True(relative <= tolerance, $"problem {p}: loss {together[p].Loss:E6} together, {alone[p].Loss:E6} alone");
            Assert.Equal(alone[p].Evaluations, together[p].Evaluations);
        }
    }

    // L-BFGS's per-problem semantics, isolated from the stacked graph's rounding: run problem by problem (the model's own
    // arithmetic), a set of P problems follows each problem alone within the issue's 1e-4 after 10 steps in float32
    // (measured: 0 to 1.1e-7 relative; the last bit varies from run to run).
    [Fact]
    public void Batched_lbfgs_problem_by_problem_follows_each_problems_own_trajectory_for_ten_steps() =>
        AssertSameTrajectories(new MatchSettings(MatchOptimizer.Lbfgs, 1, 10, 1, Stack: false),
            () => Enumerable.Range(0, 3).Select(trial => Victim("dlg-lenet", "synthetic-mnist", 1, trial, false)).ToArray());

    // The stacked graph's L-BFGS runs cannot meet the 1e-4 after 10 steps: DLG's L-BFGS at lr 1 without a line search
    // is that sensitive to its inputs. Scaling the target by 1 + 1e-6 moves a solo run's loss after 10 steps by 0.1 to
    // 0.35 relative, as much as stacking does (measured on these three victims; after 2 steps up to 0.27 against 0.10).
    // One step (up to 20 inner iterations) is short enough to tell rounding from a defect: stacked and solo losses agree
    // within 1e-2 (measured 1.2e-4 to 5.2e-4), where a wrong stacked gradient would move them by order 1.
    [Fact]
    public void Stacked_lbfgs_ends_one_step_within_a_hundredth_of_each_problem_alone()
    {
        using var scope = torch.NewDisposeScope();
        var settings = new MatchSettings(MatchOptimizer.Lbfgs, 1, 1, 1);
        MatchVictim[] Victims(double scale) => Enumerable.Range(0, 3).Select(trial =>
        {
            var v = Victim("dlg-lenet", "synthetic-mnist", 1, trial, false);
            using var factor = scale.ToScalar();
            return v with { Target = v.Target.Select(t => t.mul(factor)).ToArray() };
        }).ToArray();
        var alone = Solve(settings with { MaxProblems = 1 }, Victims(1));
        var nudged = Solve(settings with { MaxProblems = 1 }, Victims(1 + 1e-6));
        var together = Solve(settings, Victims(1));
        for (int p = 0; p < alone.Count; p++)
        {
            double Relative(MatchResult r) => Math.Abs(r.Loss - alone[p].Loss) / Math.Abs(alone[p].Loss);
            output.WriteLine($"problem {p}: alone {alone[p].Loss:E4}, target x (1 + 1e-6) {Relative(nudged[p]):E2}, stacked {Relative(together[p]):E2}");
            Assert.True(Relative(together[p]) <= 1e-2, $"problem {p}: stacked loss {together[p].Loss:E6}, alone {alone[p].Loss:E6}");
            Assert.Equal(alone[p].Evaluations, together[p].Evaluations);
        }
    }

    [Theory]
    [InlineData("mlp2")]
    [InlineData("dlg-lenet")]
    public void Batched_adam_follows_each_problems_own_trajectory(string model) =>
        AssertSameTrajectories(new MatchSettings(MatchOptimizer.Adam, 0.1, 50, 1),
            () => Enumerable.Range(0, 3).Select(trial => Victim(model, "synthetic-mnist", 1, trial, false)).ToArray());

    // Inverting Gradients: signed gradients, step decay, the box and the TV prior, with fixed labels and learned ones.
    // Its loss is 1 − cos, about 1e-3 after 50 steps here, taken from a cosine near 1 whose float32 resolution is 6e-8:
    // one ulp of the cosine is already 6e-5 of the loss. Measured: up to 2.0e-4 relative (1.8e-7 absolute, 3 ulps),
    // so the relative bound is 1e-3; a wrong stacked gradient or a mixed-up problem moves the loss by order 1.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Batched_inverting_gradients_follows_each_problems_own_trajectory(bool fixedLabels) =>
        AssertSameTrajectories(new MatchSettings(MatchOptimizer.Adam, 0.1, 50, 1) { Signed = true, StepDecay = true, Boxed = true },
            () => Enumerable.Range(0, 3).Select(trial => Victim("dlg-lenet", "synthetic-mnist", 1, trial, fixedLabels)).ToArray(),
            tolerance: 1e-3, objective: (targets, _) => new CosineMatch(targets, 1e-4));

    [Fact]
    public void Adam_on_one_problem_is_pytorchs_adam()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(3, torch.CPU);
        var start = torch.randn([1, 50], generator: generator);
        var target = torch.randn([1, 50], generator: generator);
        var ours = new TorchSharp.Modules.Parameter(start.clone());
        var theirs = new TorchSharp.Modules.Parameter(start.clone());
        using var adam = new Adam([ours], 0.05);
        using var reference = torch.optim.Adam([theirs], 0.05);
        for (int step = 0; step < 200; step++)
        {
            foreach (var (p, step_) in new[] { (ours, (Action)adam.Step), (theirs, () => reference.step()) })
            {
                p.grad?.zero_();
                (p - target).pow(4).sum().backward();
                step_();
            }
        }

        Assert.True((ours - theirs).abs().max().item<float>() <= 1e-5f * theirs.abs().max().item<float>());
        Assert.True((ours - start).abs().max().item<float>() > 0.1f);
    }

    [Fact]
    public void A_converged_problem_does_not_move_while_the_others_go_on()
    {
        using var scope = torch.NewDisposeScope();
        // Problem 0's target is its own dummy's gradient at the start: D = 0 with zero gradient, so L-BFGS stops at once.
        MatchVictim[] Victims()
        {
            var solved = Victim("dlg-lenet", "synthetic-mnist", 1, 0, fixedLabels: true);
            long seed = new Rng(7).NextTorchSeed();
            using var generator = new Generator((ulong)seed, torch.CPU);
            var x = torch.randn(ImageShape.Mnist.BatchDims(1), generator: generator);
            var grads = torch.autograd.grad([nn.functional.cross_entropy(solved.Model.forward(x), torch.tensor(new long[] { solved.Labels![0] }))],
                solved.Model.parameters().ToArray());
            return [solved with { Target = grads.Select(g => g.detach()).ToArray(), Rng = new Rng(7) }, .. Enumerable.Range(1, 2).Select(t => Victim("dlg-lenet", "synthetic-mnist", 1, t, true))];
        }
        // Problem by problem, so that problem 0's dummy gradient is computed as its target was, through the model itself: a
        // stacked graph's im2col convolution rounds differently, and D would be about 1e-14 rather than 0.
        var settings = new MatchSettings(MatchOptimizer.Lbfgs, 1, 5, 1, Stack: false);
        using var generator = new Generator((ulong)new Rng(7).NextTorchSeed(), torch.CPU);
        var start = torch.randn(ImageShape.Mnist.BatchDims(1), generator: generator).flatten().data<float>().ToArray();

        var together = Solve(settings, Victims());

        Assert.Equal(start, together[0].Images[0]);
        Assert.True(together[0].Loss < 1e-12, $"loss {together[0].Loss:E3}");
        Assert.All(together.Skip(1), r => Assert.True(r.Loss > 1e-6, $"loss {r.Loss:E3}"));
    }
}
