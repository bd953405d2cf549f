using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// L-BFGS as PyTorch's torch.optim.LBFGS runs it without a line search (the DLG and DLM code's setting): each
/// <see cref="Step"/> evaluates the closure, then takes up to <see cref="MaxIter"/> quasi-Newton steps of length lr
/// (the very first scaled by min(1, 1/‖g‖₁)), keeping a history of curvature pairs across calls.
/// Written here rather than using TorchSharp's optim.LBFGS, which wraps libtorch's C++ port: that one prints a
/// deprecation warning from libtorch for every optimiser, defaults tolerance_grad to the old 1e-5, and calls back
/// into managed code from native code.
/// </summary>
public sealed class Lbfgs(IReadOnlyList<Tensor> parameters, double lr) : IDisposable
{
    public const int MaxIter = 20;
    public const int MaxEval = MaxIter * 5 / 4;
    public const double ToleranceGrad = 1e-7;
    public const double ToleranceChange = 1e-9;
    public const int HistorySize = 100;

    // State kept across steps lives outside dispose scopes and is disposed here when replaced.
    private readonly List<(Tensor Dir, Tensor Step, double Ro)> _history = [];
    private Tensor? _direction, _previousGrad;
    private double _t, _hDiag = 1;
    private int _iterations;

    /// <summary>Closure evaluations so far.</summary>
    public int Evaluations { get; private set; }

    /// <summary>
    /// One optimiser step. <paramref name="closure"/> zeroes the gradients, computes the loss, back-propagates into the
    /// parameters and returns the loss. Returns the loss before the step (as PyTorch does).
    /// </summary>
    public double Step(Func<double> closure)
    {
        double Evaluate()
        {
            Evaluations++;
            return closure();
        }

        double originalLoss = Evaluate(), loss = originalLoss;
        int evaluations = 1;
        var grad = FlatGrad();
        if (MaxAbs(grad) <= ToleranceGrad) return originalLoss;
        var direction = _direction;
        double t = _t;
        for (int n = 1; n <= MaxIter; n++)
        {
            _iterations++;
            if (_iterations == 1)
            {
                direction = -grad;
                ClearHistory();
                _hDiag = 1;
            }
            else
            {
                direction = TwoLoop(grad, direction!, t);
            }
            Keep(ref _previousGrad, grad.clone());
            double previousLoss = loss;
            t = _iterations == 1 ? Math.Min(1, 1 / grad.abs().sum().item<float>()) * lr : lr;
            // Not a descent direction: stop (PyTorch's gtd > -tolerance_change).
            if (grad.dot(direction).item<float>() > -ToleranceChange) break;
            using (torch.no_grad()) AddToParameters(direction, t);
            if (n == MaxIter) break;
            loss = Evaluate();
            evaluations++;
            grad = FlatGrad();
            if (evaluations >= MaxEval || MaxAbs(grad) <= ToleranceGrad || MaxAbs(direction) * t <= ToleranceChange ||
                Math.Abs(loss - previousLoss) < ToleranceChange)
                break;
        }
        if (!ReferenceEquals(direction, _direction)) Keep(ref _direction, direction!);
        _t = t;
        return originalLoss;
    }

    /// <summary>The L-BFGS two-loop recursion: the new direction −H·g after adding the last curvature pair (y, s).</summary>
    private Tensor TwoLoop(Tensor grad, Tensor previousDirection, double t)
    {
        var y = grad - _previousGrad!;
        // Every Scalar here is explicit and kept alive by `using`: an implicit one can be finalised while libtorch still
        // reads it, a rare "Exception raised from toFloat" over the many steps of a reconstruction.
        using var step = t.ToScalar();
        var s = previousDirection.mul(step);
        double ys = y.dot(s).item<float>();
        if (ys > 1e-10)
        {
            if (_history.Count == HistorySize)
            {
                _history[0].Dir.Dispose();
                _history[0].Step.Dispose();
                _history.RemoveAt(0);
            }
            _history.Add((y.DetachFromDisposeScope(), s.DetachFromDisposeScope(), 1 / ys));
            _hDiag = ys / y.dot(y).item<float>();
        }
        var q = -grad;
        var alpha = new double[_history.Count];
        for (int i = _history.Count - 1; i >= 0; i--)
        {
            alpha[i] = _history[i].Step.dot(q).item<float>() * _history[i].Ro;
            if (!FitsFloat(alpha[i])) return SteepestDescent(grad);
            using var a = (-alpha[i]).ToScalar();
            q.add_(_history[i].Dir, a);
        }
        if (!FitsFloat(_hDiag)) return SteepestDescent(grad);
        using var diagonal = _hDiag.ToScalar();
        var r = q.mul(diagonal);
        for (int i = 0; i < _history.Count; i++)
        {
            double beta = _history[i].Dir.dot(r).item<float>() * _history[i].Ro;
            if (!FitsFloat(alpha[i] - beta)) return SteepestDescent(grad);
            using var b = (alpha[i] - beta).ToScalar();
            r.add_(_history[i].Step, b);
        }
        return r;
    }

    /// <summary>
    /// A coefficient a float32 tensor can take: near a degenerate curvature pair (ys just above 1e-10) 1/ys overflows
    /// float32, which libtorch rejects with an exception where PyTorch would carry inf into the step.
    /// </summary>
    private static bool FitsFloat(double value) => double.IsFinite(value) && Math.Abs(value) <= float.MaxValue;

    /// <summary>Forgets the curvature history and steps along −g, as L-BFGS does on its first iteration.</summary>
    private Tensor SteepestDescent(Tensor grad)
    {
        ClearHistory();
        _hDiag = 1;
        return -grad;
    }

    private Tensor FlatGrad() => torch.cat(parameters.Select(p => p.grad is { } g ? g.flatten() : torch.zeros(p.numel(), device: p.device)).ToArray());

    private static double MaxAbs(Tensor t) => t.abs().max().item<float>();

    private void AddToParameters(Tensor direction, double t)
    {
        long offset = 0;
        using var step = t.ToScalar();
        foreach (var p in parameters)
        {
            long n = p.numel();
            p.add_(direction.narrow(0, offset, n).view_as(p), step);
            offset += n;
        }
    }

    private static void Keep(ref Tensor? field, Tensor value)
    {
        field?.Dispose();
        field = value.DetachFromDisposeScope();
    }

    private void ClearHistory()
    {
        foreach (var (dir, step, _) in _history)
        {
            dir.Dispose();
            step.Dispose();
        }
        _history.Clear();
    }

    public void Dispose()
    {
        ClearHistory();
        _direction?.Dispose();
        _previousGrad?.Dispose();
    }
}
