using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// What the dummy gradient is matched against and how: one per optimisation run (a restart builds a fresh one, so a
/// learned scale starts again from its initial value).
/// </summary>
public abstract class MatchObjective
{
    /// <summary>Scalars optimised together with the dummy data (DLM's k); none for DLG and DLM+.</summary>
    public virtual IReadOnlyList<Parameter> Parameters => [];

    /// <summary>Optimiser steps during which <see cref="Parameters"/> stay at their start while only the dummies move.</summary>
    public virtual int FrozenSteps => 0;

    /// <summary>The matching distance D for the dummy gradients (parameter order).</summary>
    public abstract Tensor Loss(IReadOnlyList<Tensor> dummyGradients);

    /// <summary>Values worth reporting after the run (e.g. k's final value).</summary>
    public virtual IReadOnlyDictionary<string, double> Report() => new Dictionary<string, double>();
}

/// <summary>DLG and iDLG: ‖∇' − ∇‖² against a known gradient.</summary>
public sealed class GradientMatch(IReadOnlyList<Tensor> target) : MatchObjective
{
    public override Tensor Loss(IReadOnlyList<Tensor> dummyGradients) => MatchingLoss.Euclidean(dummyGradients, target);
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
/// positive, as 1/η is.
/// </summary>
public sealed class ScaledMatch : MatchObjective
{
    private readonly IReadOnlyList<Tensor> _delta;
    // k₀ as a tensor on the delta's device: the loss multiplies by it at every evaluation, and a double there would
    // become an implicit Scalar each time (finalised by the GC, possibly while libtorch still reads it).
    private readonly Tensor _kInit;
    private readonly DlmForm _form;
    private readonly Parameter _logScale;

    public ScaledMatch(IReadOnlyList<Tensor> delta, double kInit, int frozenSteps = 0, DlmForm form = DlmForm.Update)
    {
        _delta = delta;
        _kInit = torch.tensor((float)kInit, device: delta[0].device);
        _form = form;
        FrozenSteps = frozenSteps;
        _logScale = new Parameter(torch.zeros([], device: delta[0].device));
    }

    public override IReadOnlyList<Parameter> Parameters => [_logScale];

    public override int FrozenSteps { get; }

    private Tensor K => _logScale.exp() * _kInit;

    public override Tensor Loss(IReadOnlyList<Tensor> dummyGradients) => _form == DlmForm.Update
        ? MatchingLoss.ScaledUpdate(dummyGradients, _delta, K, _kInit)
        : MatchingLoss.Scaled(dummyGradients, _delta, K);

    public override IReadOnlyDictionary<string, double> Report() => new Dictionary<string, double> { ["k_final"] = K.detach().cpu().item<float>() };
}

/// <summary>DLM+: the scale-free match of per-tensor-norm-normalised gradients; ΔW is normalised once.</summary>
public sealed class ScaleFreeMatch(IReadOnlyList<Tensor> delta) : MatchObjective
{
    private readonly IReadOnlyList<Tensor> _target = MatchingLoss.Normalised(delta);

    public override Tensor Loss(IReadOnlyList<Tensor> dummyGradients) => MatchingLoss.Euclidean(MatchingLoss.Normalised(dummyGradients), _target);
}
