using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// L-BFGS as PyTorch's torch.optim.LBFGS runs it without a line search (the DLG and DLM code's setting), for P
/// independent problems at once. Every parameter holds the problems in its first dimension; each problem has its own
/// curvature history, direction, step size, iteration count and convergence and tolerance checks, exactly as if it
/// ran alone: each <see cref="Step"/> evaluates the closure, then every problem takes up to <see cref="MaxIter"/>
/// quasi-Newton steps of length lr (its very first scaled by min(1, 1/‖g‖₁)) until its own stopping rule fires; a
/// problem that stopped does not move while the others go on. The closure evaluates all problems together (a
/// stopped problem's gradient is computed and ignored).
/// Written here rather than using TorchSharp's optim.LBFGS, which wraps libtorch's C++ port: that one prints a
/// deprecation warning from libtorch for every optimiser, defaults tolerance_grad to the old 1e-5, calls back into
/// managed code from native code, and knows one problem only.
/// </summary>
public sealed class Lbfgs : IDisposable
{
    public const int MaxIter = 20;
    public const int MaxEval = MaxIter * 5 / 4;
    public const double ToleranceGrad = 1e-7;
    public const double ToleranceChange = 1e-9;
    public const int HistorySize = 100;

    private readonly IReadOnlyList<Tensor> _parameters;
    private readonly double _lr;
    private readonly int _problems;
    private readonly Device _device;

    // The curvature pairs of all problems, oldest first. A slot holds every problem's (y, s) row and ρ = 1/(y·s), with
    // ρ = 0 and zero rows for a problem that recorded nothing there (its pair was skipped, or evicted): such a slot
    // changes nothing in that problem's two-loop recursion, so each problem sees exactly its own history.
    private readonly List<Slot> _history = [];
    private readonly int[] _recorded;
    private readonly int[] _iterations;
    private readonly double[] _t;
    private Tensor? _direction, _previousGrad, _hDiag;

    public Lbfgs(IReadOnlyList<Tensor> parameters, double lr)
    {
        _parameters = parameters;
        _lr = lr;
        _problems = (int)parameters[0].shape[0];
        _device = parameters[0].device;
        _recorded = new int[_problems];
        _iterations = new int[_problems];
        _t = new double[_problems];
        Evaluations = new int[_problems];
        Frozen = new bool[_problems];
    }

    /// <summary>Closure evaluations each problem took part in (evaluated while it was still stepping).</summary>
    public int[] Evaluations { get; }

    /// <summary>Problems that never move again (set by the caller, e.g. after a divergence).</summary>
    public bool[] Frozen { get; }

    /// <summary>
    /// One optimiser step of every problem. <paramref name="closure"/> zeroes the gradients, computes the losses [P],
    /// back-propagates their sum into the parameters and returns the losses. Returns each problem's loss before the
    /// step (as PyTorch does). A problem whose loss is not finite at the start does not move in this step.
    /// </summary>
    public double[] Step(Func<Tensor> closure)
    {
        using var scope = torch.NewDisposeScope();
        var grad = FlatGrad(closure(), out var start);
        double[] originalLoss = start.Loss, loss = (double[])originalLoss.Clone();
        var active = new bool[_problems];
        var evaluations = new int[_problems];
        for (int p = 0; p < _problems; p++)
        {
            if (Frozen[p]) continue;
            Evaluations[p]++;
            evaluations[p] = 1;
            active[p] = double.IsFinite(originalLoss[p]) && !(start.MaxAbsGrad[p] <= ToleranceGrad);
        }
        var direction = _direction;
        for (int n = 1; n <= MaxIter && active.Any(a => a); n++)
        {
            var first = new bool[_problems];
            for (int p = 0; p < _problems; p++)
                if (active[p]) first[p] = ++_iterations[p] == 1;
            var proposed = direction is null ? -grad : TwoLoop(grad, direction, active, first);
            direction = direction is null ? proposed : torch.where(Column(active), proposed, direction);
            Keep(ref _previousGrad, _previousGrad is null ? grad.clone() : torch.where(Column(active), grad, _previousGrad));
            var previousLoss = (double[])loss.Clone();
            using (var _ = torch.no_grad())
            {
                var check = torch.stack([(grad * direction).sum(1), grad.abs().sum(1)]).to(ScalarType.Float64).cpu().data<double>().ToArray();
                for (int p = 0; p < _problems; p++)
                {
                    if (!active[p]) continue;
                    _t[p] = first[p] ? Math.Min(1, 1 / (double)(float)check[_problems + p]) * _lr : _lr;
                    // Not a descent direction: stop (PyTorch's gtd > -tolerance_change).
                    if (check[p] > -ToleranceChange) active[p] = false;
                }
                if (!active.Any(a => a)) break;
                AddToParameters(direction, active);
            }
            if (n == MaxIter) break;
            grad = FlatGrad(closure(), out var after);
            var stepMax = Host(direction.abs().amax(1));
            for (int p = 0; p < _problems; p++)
            {
                if (!active[p]) continue;
                Evaluations[p]++;
                evaluations[p]++;
                loss[p] = after.Loss[p];
                if (evaluations[p] >= MaxEval || after.MaxAbsGrad[p] <= ToleranceGrad || stepMax[p] * _t[p] <= ToleranceChange ||
                    Math.Abs(loss[p] - previousLoss[p]) < ToleranceChange)
                    active[p] = false;
            }
        }
        if (direction is not null && !ReferenceEquals(direction, _direction)) Keep(ref _direction, direction);
        return originalLoss;
    }

    private sealed record Readout(double[] Loss, double[] MaxAbsGrad);

    /// <summary>The flat gradients [P, n] after a closure, with the losses and the largest gradient entry of each problem (one host read).</summary>
    private Tensor FlatGrad(Tensor losses, out Readout readout)
    {
        var grad = torch.cat(_parameters.Select(p => (p.grad is { } g ? g : torch.zeros_like(p)).reshape(_problems, -1)).ToArray(), 1);
        var values = Host(torch.stack([losses.detach().to(grad.dtype), grad.abs().amax(1)]));
        readout = new Readout(values[.._problems], values[_problems..]);
        return grad;
    }

    private static double[] Host(Tensor t) => t.detach().to(ScalarType.Float64).cpu().data<double>().ToArray();

    private Tensor Column(bool[] mask) => torch.tensor(mask, device: _device).unsqueeze(1);

    /// <summary>
    /// The L-BFGS two-loop recursion of every problem at once: the new direction −H·g after adding the last curvature
    /// pair (y, s) of the problems that step on (first iterations start from −g with a fresh history instead).
    /// </summary>
    private Tensor TwoLoop(Tensor grad, Tensor previousDirection, bool[] active, bool[] first)
    {
        using var _ = torch.no_grad();
        for (int p = 0; p < _problems; p++)
            if (first[p]) Forget(p);
        var steps = torch.tensor(_t.Select(t => (float)t).ToArray(), device: _device).unsqueeze(1);
        var y = grad - _previousGrad!;
        var s = previousDirection * steps;
        var ys = (y * s).sum(1);
        var yy = (y * y).sum(1);
        var ysHost = Host(ys);
        var record = new bool[_problems];
        for (int p = 0; p < _problems; p++) record[p] = active[p] && !first[p] && ysHost[p] > 1e-10;
        _hDiag ??= torch.ones(_problems, device: _device).DetachFromDisposeScope();
        if (record.Any(r => r))
        {
            for (int p = 0; p < _problems; p++)
                if (record[p] && _recorded[p] == HistorySize) EvictOldest(p);
            var mask = torch.tensor(record, device: _device);
            var column = mask.unsqueeze(1);
            var zero = torch.zeros_like(y);
            _history.Add(new Slot(torch.where(column, y, zero).DetachFromDisposeScope(), torch.where(column, s, zero).DetachFromDisposeScope(),
                torch.where(mask, ys.reciprocal(), torch.zeros_like(ys)).DetachFromDisposeScope(), record));
            for (int p = 0; p < _problems; p++) if (record[p]) _recorded[p]++;
            Keep(ref _hDiag, torch.where(mask, ys / yy, _hDiag));
        }
        var q = -grad;
        var alpha = new Tensor[_history.Count];
        for (int i = _history.Count - 1; i >= 0; i--)
        {
            alpha[i] = (_history[i].S * q).sum(1) * _history[i].Ro;
            q.sub_(_history[i].Y * alpha[i].unsqueeze(1));
        }
        var r = q * _hDiag!.unsqueeze(1);
        for (int i = 0; i < _history.Count; i++)
        {
            var beta = (_history[i].Y * r).sum(1) * _history[i].Ro;
            r.add_(_history[i].S * (alpha[i] - beta).unsqueeze(1));
        }
        // A first iteration, or a recursion that overflowed float32 near a degenerate pair (ys just above 1e-10, where
        // PyTorch would carry inf into the step): steepest descent with a fresh history, as L-BFGS's first iteration.
        var finite = Host(r.isfinite().all(1).to(ScalarType.Float64));
        var restart = new bool[_problems];
        for (int p = 0; p < _problems; p++)
        {
            restart[p] = first[p] || (active[p] && finite[p] == 0);
            if (restart[p] && !first[p]) Forget(p);
        }
        return restart.Any(x => x) ? torch.where(Column(restart), -grad, r) : r;
    }

    /// <summary>Clears one problem's history and its diagonal scale (1), as PyTorch does on a first iteration.</summary>
    private void Forget(int p)
    {
        while (_recorded[p] > 0) EvictOldest(p);
        if (_hDiag is { } h)
        {
            using var _ = torch.no_grad();
            using var one = 1.0.ToScalar();
            h[p].fill_(one);
        }
    }

    private void EvictOldest(int p)
    {
        int i = _history.FindIndex(slot => slot.Holds[p]);
        var slot = _history[i];
        slot.Holds[p] = false;
        _recorded[p]--;
        if (!slot.Holds.Any(h => h))
        {
            slot.Dispose();
            _history.RemoveAt(i);
            return;
        }
        using var _ = torch.no_grad();
        slot.Y[p].zero_();
        slot.S[p].zero_();
        slot.Ro[p].zero_();
    }

    private void AddToParameters(Tensor direction, bool[] active)
    {
        var steps = torch.tensor(_t.Select((t, p) => active[p] ? (float)t : 0f).ToArray(), device: _device).unsqueeze(1);
        // Zero rows for the problems that do not move (0 · d could be NaN where d is not finite).
        var move = torch.where(Column(active), direction * steps, torch.zeros_like(direction));
        long offset = 0;
        foreach (var p in _parameters)
        {
            long n = p.numel() / _problems;
            p.add_(move.narrow(1, offset, n).reshape(p.shape));
            offset += n;
        }
    }

    private static void Keep(ref Tensor? field, Tensor value)
    {
        if (ReferenceEquals(field, value)) return;
        field?.Dispose();
        field = value.DetachFromDisposeScope();
    }

    private sealed record Slot(Tensor Y, Tensor S, Tensor Ro, bool[] Holds) : IDisposable
    {
        public void Dispose()
        {
            Y.Dispose();
            S.Dispose();
            Ro.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var slot in _history) slot.Dispose();
        _history.Clear();
        _direction?.Dispose();
        _previousGrad?.Dispose();
        _hDiag?.Dispose();
    }
}
