using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// Adam (Kingma and Ba 2015) with PyTorch's defaults (β = (0.9, 0.999), ε = 1e-8, no weight decay) for P independent
/// problems held in the parameters' first dimension. Adam is elementwise, so each problem follows the trajectory it
/// would follow alone; <see cref="Frozen"/> problems do not move. With <c>signed</c> the gradient is replaced by its
/// sign before the moments are updated (Inverting Gradients, Geiping et al. 2020). <see cref="LearningRate"/> may be
/// changed between steps (a step schedule).
/// </summary>
public sealed class Adam(IReadOnlyList<Tensor> parameters, double lr, bool signed = false) : IDisposable
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
    private readonly Tensor[] _m = parameters.Select(p => torch.zeros_like(p).DetachFromDisposeScope()).ToArray();
    private readonly Tensor[] _v = parameters.Select(p => torch.zeros_like(p).DetachFromDisposeScope()).ToArray();
    private readonly int _problems = (int)parameters[0].shape[0];
    private int _step;

    public double LearningRate { get; set; } = lr;

    /// <summary>Problems that never move again (set by the caller, e.g. after a divergence).</summary>
    public bool[] Frozen { get; } = new bool[parameters[0].shape[0]];

    /// <summary>One step of every problem from the gradients in the parameters' .grad.</summary>
    public void Step()
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        _step++;
        double correction1 = 1 - Math.Pow(Beta1, _step), correction2 = 1 - Math.Pow(Beta2, _step);
        // Explicit Scalars, kept alive by `using`: an implicit one can be finalised while libtorch still reads it.
        using var beta1 = Beta1.ToScalar();
        using var oneMinusBeta1 = (1 - Beta1).ToScalar();
        using var beta2 = Beta2.ToScalar();
        using var oneMinusBeta2 = (1 - Beta2).ToScalar();
        using var rootCorrection2 = Math.Sqrt(correction2).ToScalar();
        using var epsilon = Epsilon.ToScalar();
        using var stepSize = (-LearningRate / correction1).ToScalar();
        var moving = Frozen.Any(f => f) ? torch.tensor(Frozen.Select(f => !f).ToArray(), device: parameters[0].device) : null;
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.grad is not { } grad) continue;
            if (signed) grad = grad.sign();
            _m[i].mul_(beta1).add_(grad, oneMinusBeta1);
            _v[i].mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
            var update = _m[i] / (_v[i].sqrt().div_(rootCorrection2).add_(epsilon));
            if (moving is not null) update = torch.where(MatchingLoss.Broadcast(moving, update), update, torch.zeros_like(update));
            p.add_(update, stepSize);
        }
    }

    public void Dispose()
    {
        foreach (var t in _m.Concat(_v)) t.Dispose();
    }
}
