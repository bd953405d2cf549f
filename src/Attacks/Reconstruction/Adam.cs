using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// Adam (Kingma and Ba 2015) with PyTorch's defaults (β = (0.9, 0.999), ε = 1e-8, no weight decay) for P independent
/// problems held in the parameters' first dimension. Adam is elementwise, so each problem follows the trajectory it
/// would follow alone; <see cref="Frozen"/> problems do not move. <see cref="LearningRate"/> may be changed between
/// steps (<see cref="DecayedRate"/>). Inverting Gradients' signed gradients are the caller's: it signs the images'
/// gradient only, not the labels' (inversefed signs x_trial.grad in its closure).
/// </summary>
public sealed class Adam(IReadOnlyList<Tensor> parameters, double lr) : IDisposable
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;

    /// <summary>Inverting Gradients' step decay: the rate is multiplied by this at each milestone.</summary>
    public const double DecayFactor = 0.1;

    /// <summary>
    /// The milestones of Inverting Gradients' MultiStepLR for <paramref name="iterations"/> steps: ⌊N/2.667⌋, ⌊N/1.6⌋ and
    /// ⌊N/1.142⌋ (about 3/8, 5/8 and 7/8 of N, inversefed's divisors kept so the steps match).
    /// </summary>
    public static int[] Milestones(int iterations) => [.. new[] { 2.667, 1.6, 1.142 }.Select(d => (int)Math.Floor(iterations / d))];

    /// <summary>
    /// The rate of step <paramref name="step"/> (0-based) of <paramref name="iterations"/>: <paramref name="rate"/> times
    /// 0.1 per milestone m ≤ step, as PyTorch's MultiStepLR stepped once after each optimiser step (a milestone listed
    /// twice, as for tiny N, counts twice).
    /// </summary>
    public static double DecayedRate(double rate, int step, int iterations) =>
        rate * Math.Pow(DecayFactor, Milestones(iterations).Count(m => m <= step));
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
        using var one = 1.ToScalar(); // add_(epsilon)'s alpha, which TorchSharp would make implicitly
        using var stepSize = (-LearningRate / correction1).ToScalar();
        var moving = Frozen.Any(f => f) ? torch.tensor(Frozen.Select(f => !f).ToArray(), device: parameters[0].device) : null;
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.grad is not { } grad) continue;
            _m[i].mul_(beta1).add_(grad, oneMinusBeta1);
            _v[i].mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
            var update = _m[i] / (_v[i].sqrt().div_(rootCorrection2).add_(epsilon, one));
            if (moving is not null) update = torch.where(MatchingLoss.Broadcast(moving, update), update, torch.zeros_like(update));
            p.add_(update, stepSize);
        }
    }

    public void Dispose()
    {
        foreach (var t in _m.Concat(_v)) t.Dispose();
    }
}
