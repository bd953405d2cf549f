using DefenseBench.Core.Data;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

public enum MatchOptimizer { Lbfgs, Adam }

/// <summary>
/// How one reconstruction is optimised. An iteration is one optimiser step, as in the DLG and DLM code: for L-BFGS that
/// is one <c>step(closure)</c> with up to 20 inner iterations and 25 loss evaluations (PyTorch's defaults).
/// </summary>
public sealed record MatchSettings(MatchOptimizer Optimizer, double LearningRate, int Iterations, int Restarts);

/// <summary>Where the time of a reconstruction goes: the autograd calls (dummy gradient and the backward of D) against everything.</summary>
public sealed class MatchClock
{
    public TimeSpan Autograd { get; set; }
    public int Evaluations { get; set; }
}

/// <summary>The best run's reconstruction: one pixel array per image, a label per image, its final D and the runs' counts.</summary>
public sealed record MatchResult(float[][] Images, int[] Labels, double Loss, int Evaluations, bool Diverged, IReadOnlyDictionary<string, double> Report);

/// <summary>
/// Gradient matching (DLG, Zhu et al. 2019): a <see cref="DummyBatch"/> optimised so that its gradient on the server's
/// model matches a target under a <see cref="MatchObjective"/>, by L-BFGS or Adam, from several restarts.
/// </summary>
public sealed class GradientMatcher(Classifier model, MatchSettings settings, MatchClock? clock = null)
{
    // L-BFGS reads its loss on the host every step anyway; Adam's steps are cheap, so it is checked less often.
    private int CheckEvery => settings.Optimizer == MatchOptimizer.Lbfgs ? 1 : 25;

    /// <summary>
    /// The lowest-D reconstruction over the restarts (D is what the attacker can see; the ground truth never enters).
    /// <paramref name="labels"/> fixes one class per image (iDLG); null learns soft labels jointly (DLG, DLM).
    /// </summary>
    public MatchResult Reconstruct(int batchSize, ImageShape shape, int[]? labels, Func<MatchObjective> objective, Rng rng)
    {
        MatchResult? best = null;
        int evaluations = 0;
        for (int restart = 0; restart < settings.Restarts; restart++)
        {
            using var scope = torch.NewDisposeScope();
            var result = RunOnce(new DummyBatch(model, batchSize, shape, labels, objective(), rng.NextTorchSeed(), clock));
            evaluations += result.Evaluations;
            if (best == null || Better(result.Loss, best.Loss)) best = result;
        }
        return best! with { Evaluations = evaluations };
    }

    private static bool Better(double loss, double than) => double.IsFinite(loss) && (!double.IsFinite(than) || loss < than);

    private MatchResult RunOnce(DummyBatch batch)
    {
        var objective = batch.Objective;
        // Scalars of the objective (DLM's k) may stay frozen at their start for a warm-up, then join the dummies.
        int frozen = Math.Min(objective.FrozenSteps, settings.Iterations);
        var (diverged, loss) = objective.Parameters.Count == 0 || frozen == 0
            ? Optimise(batch, [.. batch.Dummies, .. objective.Parameters], settings.Iterations)
            : Optimise(batch, batch.Dummies, frozen);
        if (!diverged && frozen > 0 && objective.Parameters.Count > 0)
            (diverged, loss) = Optimise(batch, [.. batch.Dummies, .. objective.Parameters], settings.Iterations - frozen);
        return new MatchResult(batch.Images(), batch.Labels(), loss, batch.Evaluations, diverged, objective.Report());
    }

    /// <summary>
    /// <paramref name="steps"/> optimiser steps on <paramref name="optimised"/>. A state whose D is not finite ends the
    /// run, which goes back to the last state with a finite D. Returns whether that happened and the final D.
    /// </summary>
    private (bool Diverged, double Loss) Optimise(DummyBatch batch, IReadOnlyList<Parameter> optimised, int steps)
    {
        using var scope = torch.NewDisposeScope();
        Tensor[] tensors = [.. optimised];
        var pending = tensors.Select(t => torch.zeros_like(t)).ToArray();
        var good = tensors.Select(t => t.detach().clone()).ToArray();
        bool diverged = false;
        using var lbfgs = settings.Optimizer == MatchOptimizer.Lbfgs ? new Lbfgs(tensors, settings.LearningRate) : null;
        using var adam = lbfgs == null ? torch.optim.Adam(optimised, settings.LearningRate) : null;
        for (int step = 0; step < steps && !diverged; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            bool check = step % CheckEvery == 0;
            if (check) Copy(tensors, pending);
            double loss = double.NaN;
            if (lbfgs != null)
            {
                try
                {
                    loss = lbfgs.Step(() =>
                    {
                        foreach (var t in tensors) t.grad?.zero_();
                        return batch.Evaluate(tensors).item<float>();
                    });
                }
                catch (System.Runtime.InteropServices.ExternalException)
                {
                    // libtorch rejects a float32 scalar that overflowed (a run blowing up, where PyTorch would carry inf or
                    // NaN into the step): a divergence; the run ends at the state it started this step from.
                    Copy(pending, tensors);
                    loss = double.NaN;
                }
            }
            else
            {
                adam!.zero_grad();
                var value = batch.Evaluate(tensors);
                adam.step();
                if (check) loss = value.item<float>();
            }
            if (!check) continue;
            // The loss belongs to the state before the step: keep that state while it is finite, go back to it when not.
            if (double.IsFinite(loss)) Copy(pending, good);
            else diverged = true;
        }
        double final = FinalLoss(batch);
        if (!double.IsFinite(final))
        {
            diverged = true;
            Copy(good, tensors);
            final = FinalLoss(batch);
        }
        return (diverged, final);
    }

    private static double FinalLoss(DummyBatch batch)
    {
        using var scope = torch.NewDisposeScope();
        return batch.Evaluate().item<float>();
    }

    private static void Copy(IReadOnlyList<Tensor> from, IReadOnlyList<Tensor> to)
    {
        using var _ = torch.no_grad();
        for (int i = 0; i < from.Count; i++) to[i].copy_(from[i]);
    }
}
