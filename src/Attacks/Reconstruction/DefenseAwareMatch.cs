using DefenseBench.Attacks.Common;
using DefenseBench.Core.Federation;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// Gradient matching by an attacker who knows the defence (docs/attacks.md, adaptive attacks): the dummy gradients
/// go through what the defence did to the observed upload before the attack's own distance compares them. Under a
/// clip it can compute (the attack knows the gradient's units: DLG, iDLG), the dummy gradient is clipped the same way
/// — as a whole to DP-FedAvg's bound or DP-SGD's per-example bound (exact at B = 1; for B &gt; 1 the dummy batch's mean
/// is clipped, not each example), tensor by tensor to clip-and-noise's. An attack that learns or removes the scale
/// (DLM's k, DLM+'s normalisation) absorbs a whole-update clip already; under a per-tensor clip both sides are
/// normalised tensor by tensor instead, a scale-free distance. Under top-k only the transmitted coordinates (the
/// upload's non-zero entries) are matched. Clipping comes before the mask, as in a pipeline clip then top-k.
/// Under a clip both sides are then divided by the bound, so the matching runs at unit scale whatever the clip norm:
/// the minimiser is the same, but L-BFGS with a fixed step and tolerances stalls on a loss 10⁻⁴ times smaller (iDLG on
/// the MNIST sample under DP-SGD at C = 0.1: a median 5.4 dB at the clip's own scale).
/// </summary>
public sealed class DefenseAwareMatch : MatchObjective
{
    private readonly MatchObjective _inner;
    private readonly IReadOnlyList<Tensor>? _mask;
    private readonly bool _perTensorScaleFree;
    // Scalars of every evaluation, made once and kept alive by the objective: an implicit Scalar per evaluation may be
    // finalised while libtorch still reads it (see ScaledMatch's k0). Two is square()'s exponent, which TorchSharp
    // would make implicitly.
    private static readonly Scalar One = 1.0.ToScalar(), Epsilon = 1e-6.ToScalar(), Tiny = 1e-30.ToScalar(), Two = 2.ToScalar();
    private readonly Scalar? _whole;
    private readonly Scalar? _tensor;
    private readonly Scalar? _unit;

    private DefenseAwareMatch(MatchObjective inner, IReadOnlyList<Tensor>? mask, double? wholeBound, double? tensorBound, bool perTensorScaleFree)
    {
        _inner = inner;
        _mask = mask;
        _whole = wholeBound?.ToScalar();
        _tensor = tensorBound?.ToScalar();
        _unit = UnitScale(wholeBound, tensorBound)?.ToScalar();
        _perTensorScaleFree = perTensorScaleFree;
    }

    /// <summary>
    /// The objective of an attack that knows <paramref name="known"/>, for targets <paramref name="uploads"/> ([P, ...] or
    /// [1, ...], parameter order, the uploads as observed): <paramref name="objective"/> built on the targets (normalised
    /// tensor by tensor under a per-tensor clip when the attack does not know the scale), wrapped so the dummy
    /// gradients pass through the same defence; <paramref name="objective"/>'s own when nothing is known.
    /// </summary>
    public static MatchObjective For(KnownDefense known, IReadOnlyList<Tensor> uploads, UpdateKind kind, Protocol protocol, bool knowsScale,
        Func<IReadOnlyList<Tensor>, MatchObjective> objective)
    {
        bool perTensorScaleFree = !knowsScale && known.TensorClip != null;
        double? whole = null, tensor = null;
        if (knowsScale)
        {
            // DP-SGD clips every local step's per-example gradients (gradient units); DP-FedAvg the whole upload.
            whole = KnownDefense.Smaller(known.ExampleClip, known.UpdateClip is { } c ? KnownDefense.InGradientUnits(c, kind, protocol) : null);
            tensor = known.TensorClip is { } t ? KnownDefense.InGradientUnits(t, kind, protocol) : null;
        }
        // Explicit and kept alive while the tensors below are computed.
        using var zero = 0.ToScalar();
        using var unitScale = UnitScale(whole, tensor)?.ToScalar();
        var mask = known.Sparsified ? uploads.Select(u => u.ne(zero).to(u.dtype)).ToArray() : null;
        if (mask == null && whole == null && tensor == null && !perTensorScaleFree) return objective(uploads);
        var targets = perTensorScaleFree ? EachTensorNormalised(uploads)
            : unitScale is { } unit ? uploads.Select(u => u * unit).ToArray() : uploads;
        return new DefenseAwareMatch(objective(targets), mask, whole, tensor, perTensorScaleFree);
    }

    public override IReadOnlyList<Parameter> Parameters => _inner.Parameters;
    public override int FrozenSteps => _inner.FrozenSteps;
    public override IReadOnlyDictionary<string, double> Report(int problem) => _inner.Report(problem);
    public override Tensor? Prior(Tensor inputs) => _inner.Prior(inputs);

    public override Tensor Losses(IReadOnlyList<Tensor> dummyGradients) => _inner.Losses(Defend(dummyGradients));

    /// <summary>Dummy gradients [P, ...] as the defence would have passed them: clipped, then masked to the transmitted coordinates.</summary>
    public IReadOnlyList<Tensor> Defend(IReadOnlyList<Tensor> dummyGradients)
    {
        var g = dummyGradients;
        if (_whole is { } whole)
        {
            var norm = torch.stack(g.Select(t => MatchingLoss.PerProblem(t.pow(Two))).ToArray()).sum(dim: 0).sqrt();
            var factor = Factor(whole, norm);
            g = g.Select(t => t * MatchingLoss.Broadcast(factor, t)).ToArray();
        }
        if (_tensor is { } bound)
            g = g.Select(t => t * MatchingLoss.Broadcast(Factor(bound, MatchingLoss.PerProblem(t.pow(Two)).sqrt()), t)).ToArray();
        if (_mask is { } mask) g = g.Select((t, i) => t * mask[i]).ToArray();
        if (_perTensorScaleFree) g = EachTensorNormalised(g);
        if (_unit is { } unit) g = g.Select(t => t * unit).ToArray();
        return g;
    }

    /// <summary>1 / the clip bound both sides are divided by (the whole-gradient bound when there is one); null without a clip.</summary>
    private static double? UnitScale(double? whole, double? tensor) => (whole ?? tensor) is { } bound ? 1 / bound : null;

    /// <summary>min(1, C/(‖g‖ + 10⁻⁶)) per problem, DP-SGD's clipping factor (Opacus's), differentiable in g.</summary>
    private static Tensor Factor(Scalar bound, Tensor norm) => norm.add(Epsilon, One).reciprocal().mul(bound).clamp_max(One);

    /// <summary>Each tensor of each problem divided by its own L2 norm (a tensor of zeros stays zero).</summary>
    private static IReadOnlyList<Tensor> EachTensorNormalised(IReadOnlyList<Tensor> tensors) =>
        tensors.Select(t => t / MatchingLoss.Broadcast(MatchingLoss.PerProblem(t.pow(Two)).sqrt().clamp_min(Tiny), t)).ToArray();
}
