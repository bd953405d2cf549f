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
/// (DLM's k, DLM+'s normalisation) matches scale-free instead: both sides normalised tensor by tensor under a per-tensor
/// clip, as a whole under a clip of the whole update or of each example. A clip that acted leaves the upload's scale
/// at the bound, which says nothing of the gradient's. Where the attack learns a scale, its dummy side is then
/// multiplied by the scale's start (<see cref="MatchObjective.ScaleStart"/>), so DLM's k starts where the two
/// normalised sides meet instead of having to cover the clip's unknown factor, 10² to 10⁴ on the MNIST sample, which
/// L-BFGS did not (DLM at 5.6 dB under clip-and-noise at 0.01, 18 dB under DP-SGD at 0.1, where DLM+ reached 60).
/// Under top-k only the transmitted coordinates (the upload's non-zero entries) are matched. Clipping comes before the
/// mask, as in a pipeline clip then top-k.
/// Under a clip both sides are then divided by the bound, so the matching runs at unit scale whatever the clip norm:
/// the minimiser is the same, but L-BFGS with a fixed step and tolerances stalls on a loss 10⁻⁴ times smaller (iDLG on
/// the MNIST sample under DP-SGD at C = 0.1: a median 5.4 dB at the clip's own scale).
/// </summary>
public sealed class DefenseAwareMatch : MatchObjective
{
    private readonly MatchObjective _inner;
    private readonly IReadOnlyList<Tensor>? _mask;
    private readonly ScaleFree _scaleFree;
    // Scalars of every evaluation, made once and kept alive by the objective: an implicit Scalar per evaluation may be
    // finalised while libtorch still reads it (see ScaledMatch's k0). Two is square()'s exponent, which TorchSharp
    // would make implicitly.
    private static readonly Scalar One = 1.0.ToScalar(), Epsilon = 1e-6.ToScalar(), Tiny = 1e-30.ToScalar(), Two = 2.ToScalar();
    private readonly Scalar? _whole;
    private readonly Scalar? _tensor;
    private readonly Scalar? _unit;
    private readonly Scalar? _scaleStart;

    /// <summary>How an attack that does not know the gradient's scale takes it out under a clip.</summary>
    private enum ScaleFree { No, PerTensor, Whole }

    private DefenseAwareMatch(MatchObjective inner, IReadOnlyList<Tensor>? mask, double? wholeBound, double? tensorBound, ScaleFree scaleFree)
    {
        _inner = inner;
        _mask = mask;
        _whole = wholeBound?.ToScalar();
        _tensor = tensorBound?.ToScalar();
        _unit = UnitScale(wholeBound, tensorBound)?.ToScalar();
        _scaleFree = scaleFree;
        _scaleStart = scaleFree != ScaleFree.No && inner.ScaleStart is { } start ? start.ToScalar() : null;
    }

    /// <summary>
    /// The objective of an attack that knows <paramref name="known"/>, for targets <paramref name="uploads"/> ([P, ...] or
    /// [1, ...], parameter order, the uploads as observed): <paramref name="objective"/> built on the targets (normalised
    /// tensor by tensor under a per-tensor clip, as a whole under a whole or per-example clip, when the attack does not
    /// know the scale), wrapped so the dummy gradients pass through the same defence; <paramref name="objective"/>'s own
    /// when nothing is known.
    /// </summary>
    public static MatchObjective For(KnownDefense known, IReadOnlyList<Tensor> uploads, UpdateKind kind, Protocol protocol, bool knowsScale,
        Func<IReadOnlyList<Tensor>, MatchObjective> objective)
    {
        var scaleFree = knowsScale ? ScaleFree.No
            : known.TensorClip != null ? ScaleFree.PerTensor
            : known.ExampleClip != null || known.UpdateClip != null ? ScaleFree.Whole
            : ScaleFree.No;
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
        if (mask == null && whole == null && tensor == null && scaleFree == ScaleFree.No) return objective(uploads);
        var targets = scaleFree != ScaleFree.No ? Normalised(uploads, scaleFree)
            : unitScale is { } unit ? uploads.Select(u => u * unit).ToArray() : uploads;
        return new DefenseAwareMatch(objective(targets), mask, whole, tensor, scaleFree);
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
            var factor = Factor(whole, WholeNorm(g));
            g = g.Select(t => t * MatchingLoss.Broadcast(factor, t)).ToArray();
        }
        if (_tensor is { } bound)
            g = g.Select(t => t * MatchingLoss.Broadcast(Factor(bound, MatchingLoss.PerProblem(t.pow(Two)).sqrt()), t)).ToArray();
        if (_mask is { } mask) g = g.Select((t, i) => t * mask[i]).ToArray();
        if (_scaleFree != ScaleFree.No) g = Normalised(g, _scaleFree);
        if (_scaleStart is { } start) g = g.Select(t => t * start).ToArray();
        if (_unit is { } unit) g = g.Select(t => t * unit).ToArray();
        return g;
    }

    /// <summary>1 / the clip bound both sides are divided by (the whole-gradient bound when there is one); null without a clip.</summary>
    private static double? UnitScale(double? whole, double? tensor) => (whole ?? tensor) is { } bound ? 1 / bound : null;

    /// <summary>min(1, C/(‖g‖ + 10⁻⁶)) per problem, DP-SGD's clipping factor (Opacus's), differentiable in g.</summary>
    private static Tensor Factor(Scalar bound, Tensor norm) => norm.add(Epsilon, One).reciprocal().mul(bound).clamp_max(One);

    /// <summary>
    /// Each problem's tensors divided by their own L2 norms (per tensor) or by the norm of all of them together (whole);
    /// zeros stay zero.
    /// </summary>
    private static IReadOnlyList<Tensor> Normalised(IReadOnlyList<Tensor> tensors, ScaleFree how)
    {
        if (how == ScaleFree.PerTensor)
            return tensors.Select(t => t / MatchingLoss.Broadcast(MatchingLoss.PerProblem(t.pow(Two)).sqrt().clamp_min(Tiny), t)).ToArray();
        var norm = WholeNorm(tensors).clamp_min(Tiny);
        return tensors.Select(t => t / MatchingLoss.Broadcast(norm, t)).ToArray();
    }

    /// <summary>Each problem's L2 norm over all its tensors together, [P].</summary>
    private static Tensor WholeNorm(IReadOnlyList<Tensor> tensors) =>
        torch.stack(tensors.Select(t => MatchingLoss.PerProblem(t.pow(Two))).ToArray()).sum(dim: 0).sqrt();
}
