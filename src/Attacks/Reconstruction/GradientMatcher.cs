using DefenseBench.Core.Data;
using DefenseBench.Core.Models;
using DefenseBench.Core.Native;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

public enum MatchOptimizer { Lbfgs, Adam }

/// <summary>
/// How one reconstruction is optimised. An iteration is one optimiser step, as in the DLG and DLM code: for L-BFGS that
/// is one <c>step(closure)</c> with up to 20 inner iterations and 25 loss evaluations (PyTorch's defaults).
/// <see cref="MaxProblems"/> caps how many problems (restarts × victims) are optimised together in one graph; 1 runs
/// every problem alone. <see cref="Stack"/> false runs a set problem by problem through the model itself instead of
/// as one stacked graph (same arithmetic as a problem alone; for comparisons).
/// </summary>
public sealed record MatchSettings(MatchOptimizer Optimizer, double LearningRate, int Iterations, int Restarts, int MaxProblems = MatchSettings.DefaultMaxProblems,
    bool Stack = true)
{
    /// <summary>Adam only: the dummy images' gradient is replaced by its sign before each step (Inverting Gradients; not the labels').</summary>
    public bool Signed { get; init; }

    /// <summary>Adam only: the rate drops tenfold at 3/8, 5/8 and 7/8 of the steps (<see cref="Adam.DecayedRate"/>).</summary>
    public bool StepDecay { get; init; }

    /// <summary>Adam only: the dummy images are clamped to the datasets' pixel range [0, 1] after each step.</summary>
    public bool Boxed { get; init; }

    /// <summary>Problems per graph by default; with <see cref="MaxImages"/> the memory cap that splits a larger set.</summary>
    public const int DefaultMaxProblems = 64;

    /// <summary>Dummy images (problems × B) per graph at most: a set beyond it is split.</summary>
    public const int MaxImages = 512;
}

/// <summary>Where the time of a reconstruction goes: the autograd calls (dummy gradient and the backward of D) against everything.</summary>
public sealed class MatchClock
{
    public TimeSpan Autograd { get; set; }

    /// <summary>Closure evaluations of whole sets.</summary>
    public int Evaluations { get; set; }

    /// <summary>Problems whose dummy gradients those evaluations computed (a set's stopped problems are skipped).</summary>
    public long ProblemEvaluations { get; set; }
}

/// <summary>The best run's reconstruction: one pixel array per image, a label per image, its final D and the runs' counts.</summary>
public sealed record MatchResult(float[][] Images, int[] Labels, double Loss, int Evaluations, bool Diverged, IReadOnlyDictionary<string, double> Report);

/// <summary>
/// One victim of a reconstruction: the server's model, the target (parameter order) its dummies are matched against,
/// its batch size, the labels it fixes (iDLG; null learns them) and the stream its restarts' seeds are drawn from.
/// </summary>
public sealed record MatchVictim(Classifier Model, IReadOnlyList<Tensor> Target, int BatchSize, int[]? Labels, Rng Rng);

/// <summary>Builds the objective of a set of P problems from their targets stacked [P, ...] (or [1, ...] when shared).</summary>
public delegate MatchObjective ObjectiveFactory(IReadOnlyList<Tensor> targets, int problems);

/// <summary>
/// Gradient matching (DLG, Zhu et al. 2019): dummy batches optimised so that their gradients on the server's model
/// match targets under a <see cref="MatchObjective"/>, by L-BFGS or Adam, from several restarts. Every restart of every
/// victim is an independent problem; problems of one batch size are optimised together as a <see cref="ProblemSet"/>
/// (up to <see cref="MatchSettings.MaxProblems"/> at once), each following the trajectory it would follow alone.
/// </summary>
public sealed class GradientMatcher(MatchSettings settings, MatchClock? clock = null)
{
    /// <summary>
    /// On the CPU, a set with fewer dummy values than this (problems × B × pixels) runs on one intra-op thread. Measured
    /// with DLG on the DLG LeNet (MNIST, L-BFGS, a 2-core machine, docs/attacks.md): one thread against two gave 17.0
    /// against 11.1 steps/s for one image, 42 against 27 problem-steps/s for 3 images (one seed's restarts) and 8.2
    /// against 6.0 for one batch of 4; from 8 images (6,272 values) on, two threads were faster (62 against 48).
    /// </summary>
    public const int SingleThreadValues = 4096;

    // L-BFGS reads its loss on the host every step anyway; Adam's steps are cheap, so it is checked less often.
    private int CheckEvery => settings.Optimizer == MatchOptimizer.Lbfgs ? 1 : 25;

    /// <summary>
    /// Each victim's lowest-D reconstruction over its restarts (D is what the attacker can see; the ground truth never
    /// enters). Restart seeds are drawn from each victim's stream in order, so the result does not depend on how the
    /// problems are grouped.
    /// </summary>
    public IReadOnlyList<MatchResult> Reconstruct(IReadOnlyList<MatchVictim> victims, ImageShape shape, ObjectiveFactory objective)
    {
        var problems = victims.SelectMany((v, i) => Enumerable.Range(0, settings.Restarts)
            .Select(_ => (Victim: i, Problem: new MatchProblem(v.Model, v.Labels, v.Rng.NextTorchSeed())))).ToArray();
        var results = new MatchResult[problems.Length];
        foreach (var group in problems.Select((p, index) => (p.Victim, p.Problem, Index: index))
                     .GroupBy(p => (victims[p.Victim].BatchSize, Fixed: p.Problem.Labels != null)))
        {
            int cap = Math.Max(1, Math.Min(settings.MaxProblems, MatchSettings.MaxImages / group.Key.BatchSize));
            foreach (var chunk in group.Chunk(cap))
            {
                var targets = chunk.All(c => c.Victim == chunk[0].Victim)
                    ? victims[chunk[0].Victim].Target.Select(t => t.unsqueeze(0)).ToArray()
                    : MatchObjective.Stack(chunk.Select(c => victims[c.Victim].Target).ToArray());
                var solved = RunSet(chunk.Select(c => c.Problem).ToArray(), group.Key.BatchSize, shape, objective(targets, chunk.Length));
                for (int i = 0; i < chunk.Length; i++) results[chunk[i].Index] = solved[i];
            }
        }
        return victims.Select((_, v) =>
        {
            var runs = results.Skip(v * settings.Restarts).Take(settings.Restarts).ToArray();
            var best = runs.Aggregate((b, r) => Better(r.Loss, b.Loss) ? r : b);
            return best with { Evaluations = runs.Sum(r => r.Evaluations) };
        }).ToArray();
    }

    private static bool Better(double loss, double than) => double.IsFinite(loss) && (!double.IsFinite(than) || loss < than);

    private MatchResult[] RunSet(IReadOnlyList<MatchProblem> problems, int batchSize, ImageShape shape, MatchObjective objective)
    {
        using var scope = torch.NewDisposeScope();
        var set = new ProblemSet(problems, batchSize, shape, objective, clock, settings.Stack);
        using var threads = set.Inputs.device_type == DeviceType.CPU && set.Inputs.numel() < SingleThreadValues ? IntraOpThreads.AtMost(1) : null;
        var run = new Run(set.Count);
        // Scalars of the objective (DLM's k) may stay frozen at their start for a warm-up, then join the dummies.
        int frozen = Math.Min(objective.FrozenSteps, settings.Iterations);
        if (objective.Parameters.Count == 0 || frozen == 0)
            Optimise(set, [.. set.Dummies, .. objective.Parameters], settings.Iterations, run);
        else
        {
            Optimise(set, set.Dummies, frozen, run);
            if (run.Diverged.Any(d => !d)) Optimise(set, [.. set.Dummies, .. objective.Parameters], settings.Iterations - frozen, run);
        }
        return Enumerable.Range(0, set.Count)
            .Select(p => new MatchResult(set.Images(p), set.Labels(p), run.Loss[p], run.Evaluations[p], run.Diverged[p], objective.Report(p))).ToArray();
    }

    /// <summary>Per problem: whether it diverged, its evaluations and its final D.</summary>
    private sealed class Run(int problems)
    {
        public bool[] Diverged { get; } = new bool[problems];
        public int[] Evaluations { get; } = new int[problems];
        public double[] Loss { get; } = new double[problems];
    }

    /// <summary>
    /// <paramref name="steps"/> optimiser steps on <paramref name="optimised"/>. A problem whose D is not finite stops
    /// there and goes back to its last state with a finite D; the others go on. Sets every problem's final D.
    /// </summary>
    private void Optimise(ProblemSet set, IReadOnlyList<Tensor> optimised, int steps, Run run)
    {
        using var scope = torch.NewDisposeScope();
        Tensor[] tensors = [.. optimised];
        var pending = tensors.Select(t => torch.zeros_like(t)).ToArray();
        var good = tensors.Select(t => t.detach().clone()).ToArray();
        using var lbfgs = settings.Optimizer == MatchOptimizer.Lbfgs ? new Lbfgs(tensors, settings.LearningRate) : null;
        using var adam = lbfgs == null ? new Adam(tensors, settings.LearningRate) : null;
        for (int step = 0; step < steps && run.Diverged.Any(d => !d); step++)
        {
            using var stepScope = torch.NewDisposeScope();
            bool check = step % CheckEvery == 0;
            if (check) Copy(tensors, pending);
            double[]? loss = null;
            if (lbfgs != null)
            {
                Array.Copy(run.Diverged, lbfgs.Frozen, set.Count);
                loss = lbfgs.Step(stepping =>
                {
                    foreach (var t in tensors) t.grad?.zero_();
                    return set.Evaluate(tensors, only: stepping);
                });
            }
            else
            {
                Array.Copy(run.Diverged, adam!.Frozen, set.Count);
                foreach (var t in tensors) t.grad?.zero_();
                var value = set.Evaluate(tensors);
                if (settings.Signed) set.Inputs.grad?.sign_();
                if (settings.StepDecay) adam.LearningRate = Adam.DecayedRate(settings.LearningRate, step, steps);
                adam.Step();
                if (settings.Boxed) Box(set.Inputs);
                for (int p = 0; p < set.Count; p++) if (!run.Diverged[p]) run.Evaluations[p]++;
                if (check) loss = Host(value);
            }
            if (loss == null) continue;
            // The loss belongs to the state before the step: keep that state while it is finite, stop the problem when not.
            var finite = new bool[set.Count];
            for (int p = 0; p < set.Count; p++)
            {
                if (run.Diverged[p]) continue;
                finite[p] = double.IsFinite(loss[p]);
                run.Diverged[p] = !finite[p];
            }
            CopyRows(pending, good, finite);
        }
        if (lbfgs != null) for (int p = 0; p < set.Count; p++) run.Evaluations[p] += lbfgs.Evaluations[p];
        var final = FinalLoss(set, run);
        var restore = final.Select(l => !double.IsFinite(l)).ToArray();
        if (restore.Any(r => r))
        {
            CopyRows(good, tensors, restore);
            var again = FinalLoss(set, run);
            for (int p = 0; p < set.Count; p++)
                if (restore[p])
                {
                    run.Diverged[p] = true;
                    final[p] = again[p];
                }
        }
        Array.Copy(final, run.Loss, set.Count);
    }

    /// <summary>Every problem's final D, the distance its restart is ranked by: without the objective's image prior.</summary>
    private static double[] FinalLoss(ProblemSet set, Run run)
    {
        using var scope = torch.NewDisposeScope();
        for (int p = 0; p < set.Count; p++) run.Evaluations[p]++;
        return Host(set.Evaluate(withPrior: false));
    }

    // The datasets' pixel range (IImageDataset: channel-major floats in [0, 1]); kept alive for every step's clamp.
    private static readonly Scalar PixelMin = 0.0.ToScalar(), PixelMax = 1.0.ToScalar();

    /// <summary>Inverting Gradients' box constraint: the dummy images projected back into the data range after a step.</summary>
    public static void Box(Tensor images)
    {
        using var _ = torch.no_grad();
        images.clamp_(PixelMin, PixelMax);
    }

    private static double[] Host(Tensor t) => t.detach().to(ScalarType.Float64).cpu().data<double>().ToArray();

    private static void Copy(IReadOnlyList<Tensor> from, IReadOnlyList<Tensor> to)
    {
        using var _ = torch.no_grad();
        for (int i = 0; i < from.Count; i++) to[i].copy_(from[i]);
    }

    /// <summary>Copies the rows (problems) where <paramref name="rows"/> is true.</summary>
    private static void CopyRows(IReadOnlyList<Tensor> from, IReadOnlyList<Tensor> to, bool[] rows)
    {
        if (!rows.Any(r => r)) return;
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var mask = torch.tensor(rows, device: from[0].device);
        for (int i = 0; i < from.Count; i++) to[i].copy_(torch.where(MatchingLoss.Broadcast(mask, from[i]), from[i], to[i]));
    }
}
