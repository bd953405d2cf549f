using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// What the dummy gradients of P problems are matched against and how: one per optimisation run of a problem set (a
/// restart is another problem with a fresh one, so a learned scale starts again from its initial value). Targets hold
/// the problems in their first dimension ([P, ...], or [1, ...] when every problem matches the same target).
/// </summary>
public abstract class MatchObjective
{
    /// <summary>Values optimised together with the dummy data, one entry per problem in the first dimension (DLM's k); none for DLG and DLM+.</summary>
    public virtual IReadOnlyList<Parameter> Parameters => [];

    /// <summary>Optimiser steps during which <see cref="Parameters"/> stay at their start while only the dummies move.</summary>
    public virtual int FrozenSteps => 0;

    /// <summary>The matching distance D of every problem, [P], for the dummy gradients ([P, ...] each, parameter order).</summary>
    public abstract Tensor Losses(IReadOnlyList<Tensor> dummyGradients);

    /// <summary>
    /// An image prior added to D while the dummies are optimised, per problem [P], of the dummy inputs [P, B, ...]; null
    /// for none. It never enters the final D the restarts are ranked by (Inverting Gradients scores a restart by its
    /// gradient distance alone).
    /// </summary>
    public virtual Tensor? Prior(Tensor inputs) => null;

    /// <summary>Values worth reporting after the run (e.g. k's final value), one dictionary per problem.</summary>
    public virtual IReadOnlyDictionary<string, double> Report(int problem) => new Dictionary<string, double>();

    /// <summary>
    /// The value the scale this objective learns starts at (DLM's k₀, the stand-in for 1/η), which a dummy gradient is
    /// divided by before it is compared with the target; null for an objective that learns no scale.
    /// </summary>
    public virtual double? ScaleStart => null;

    /// <summary>
    /// The targets of several problems stacked along a new first dimension, tensor by tensor: <paramref name="perProblem"/>[p]
    /// is problem p's list in parameter order. One problem's list becomes [1, ...], which every problem then shares.
    /// </summary>
    public static IReadOnlyList<Tensor> Stack(IReadOnlyList<IReadOnlyList<Tensor>> perProblem) =>
        Enumerable.Range(0, perProblem[0].Count).Select(l => torch.stack(perProblem.Select(p => p[l]).ToArray())).ToArray();
}

/// <summary>DLG and iDLG: ‖∇' − ∇‖² against a known gradient.</summary>
public sealed class GradientMatch(IReadOnlyList<Tensor> target) : MatchObjective
{
    public override Tensor Losses(IReadOnlyList<Tensor> dummyGradients) => MatchingLoss.Euclidean(dummyGradients, target);
}

/// <summary>
/// Inverting Gradients: the cosine distance to a known gradient (<see cref="MatchingLoss.Cosine"/>), with the total
/// variation of the dummy images weighted by <paramref name="tvWeight"/> as its prior.
/// </summary>
public sealed class CosineMatch(IReadOnlyList<Tensor> target, double tvWeight) : MatchObjective
{
    // Kept alive by the objective: an implicit Scalar per evaluation may be finalised while libtorch still reads it.
    private readonly Scalar _tvWeight = tvWeight.ToScalar();

    public override Tensor Losses(IReadOnlyList<Tensor> dummyGradients) => MatchingLoss.Cosine(dummyGradients, target);

    public override Tensor? Prior(Tensor inputs) => tvWeight > 0 ? MatchingLoss.TotalVariation(inputs).mul(_tvWeight) : null;
}

/// <summary>How DLM compares the dummy gradient with the weight delta (<see cref="MatchingLoss.Scaled"/>,
/// <see cref="MatchingLoss.ScaledUpdate"/>).</summary>
public enum DlmForm
{
    /// <summary>k₀²·‖∇'/k − ΔW‖²: the dummy update with learned rate 1/k against ΔW (no k → 0 minimum).</summary>
    Update,

    /// <summary>‖∇' − k·ΔW‖², the DLM code's D, which a vanishing dummy gradient with k → 0 also minimises.</summary>
    Delta,
}

/// <summary>
/// DLM: the dummy gradient against k·ΔW with k learned from its start k₀, after <c>frozenSteps</c> steps with k held
/// there, in either <see cref="DlmForm"/>; both equal DLG's D at k = k₀ = 1/η. k is optimised as k = k₀·exp(u) from
/// u = 0: ∂D/∂k carries ΔW = η·∇, so it is about η times smaller than the pixels' gradient and a raw k barely moves
/// (measured: 60 → 78 in 80 L-BFGS steps towards 100); ∂D/∂u = k·∂D/∂k is of the pixels' order, and k stays
/// positive, as 1/η is. Each of the P problems has its own k (u is [P]).
/// </summary>
public sealed class ScaledMatch : MatchObjective
{
    private readonly IReadOnlyList<Tensor> _delta;
    // k₀ as a tensor on the delta's device: the loss multiplies by it at every evaluation, and a double there would
    // become an implicit Scalar each time (finalised by the GC, possibly while libtorch still reads it).
    private readonly Tensor _kInit;
    private readonly double _kStart;
    private readonly DlmForm _form;
    private readonly Parameter _logScale;

    public ScaledMatch(IReadOnlyList<Tensor> delta, double kInit, int problems, int frozenSteps = 0, DlmForm form = DlmForm.Update)
    {
        _delta = delta;
        _kInit = torch.tensor((float)kInit, device: delta[0].device);
        _kStart = kInit;
        _form = form;
        FrozenSteps = frozenSteps;
        _logScale = new Parameter(torch.zeros([problems], device: delta[0].device));
    }

    public override IReadOnlyList<Parameter> Parameters => [_logScale];

    public override int FrozenSteps { get; }

    public override double? ScaleStart => _kStart;

    private Tensor K => _logScale.exp() * _kInit;

    public override Tensor Losses(IReadOnlyList<Tensor> dummyGradients) => _form == DlmForm.Update
        ? MatchingLoss.ScaledUpdate(dummyGradients, _delta, K, _kInit)
        : MatchingLoss.Scaled(dummyGradients, _delta, K);

    public override IReadOnlyDictionary<string, double> Report(int problem)
    {
        using var scope = torch.NewDisposeScope();
        return new Dictionary<string, double> { ["k_final"] = K.detach()[problem].cpu().item<float>() };
    }
}

/// <summary>DLM+: the scale-free match of per-tensor-norm-normalised gradients; ΔW is normalised once.</summary>
public sealed class ScaleFreeMatch(IReadOnlyList<Tensor> delta) : MatchObjective
{
    private readonly IReadOnlyList<Tensor> _target = MatchingLoss.Normalised(delta);

    public override Tensor Losses(IReadOnlyList<Tensor> dummyGradients) => MatchingLoss.Euclidean(MatchingLoss.Normalised(dummyGradients), _target);
}
