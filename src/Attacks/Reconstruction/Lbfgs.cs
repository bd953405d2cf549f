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

    // Kept alive by the class: an implicit Scalar (also the alpha 1 of TorchSharp's add) may be finalised while libtorch
    // still reads it.
    private static readonly Scalar One = 1.ToScalar();

    private readonly IReadOnlyList<Tensor> _parameters;
    private readonly double _lr;
    private readonly int _problems;
    private readonly Device _device;
    private readonly ScalarType _dtype;

    // The curvature pairs, a ring of history-size columns per problem in _s and _y [P, history, n]: problem p's k-th pair
    // since its history began is in column k mod history, as when it runs alone, so its arithmetic does not depend on
    // the other problems of the set. _rho[p, c] = 1/(yᵀs) of the pair in column c, and _gram[p] keeps problem p's
    // s_iᵀy_j, row-major over columns, on the host in float64.
    private Tensor? _s, _y;
    private readonly double[][] _gram;
    private readonly double[,] _rho;
    private readonly int _historySize;
    private readonly int[] _pairs;
    private readonly int[] _iterations;
    private readonly double[] _t;
    private Tensor? _direction, _previousGrad, _hDiag;

    public Lbfgs(IReadOnlyList<Tensor> parameters, double lr, int historySize = HistorySize)
    {
        _historySize = historySize;
        _parameters = parameters;
        _lr = lr;
        _problems = (int)parameters[0].shape[0];
        _device = parameters[0].device;
        _dtype = parameters[0].dtype;
        _pairs = new int[_problems];
        _iterations = new int[_problems];
        _t = new double[_problems];
        Evaluations = new int[_problems];
        Frozen = new bool[_problems];
        _rho = new double[_problems, historySize];
        _gram = [.. Enumerable.Range(0, _problems).Select(_ => new double[historySize * historySize])];
    }

    /// <summary>Closure evaluations each problem took part in (evaluated while it was still stepping).</summary>
    public int[] Evaluations { get; }

    /// <summary>Problems that never move again (set by the caller, e.g. after a divergence).</summary>
    public bool[] Frozen { get; }

    /// <summary>
    /// One optimiser step of every problem. <paramref name="closure"/> zeroes the gradients, computes the losses [P],
    /// back-propagates their sum into the parameters and returns the losses; its argument says which problems are still
    /// stepping (the others' losses and gradients are not read, so it may skip them). Returns each problem's loss
    /// before the step (as PyTorch does). A problem whose loss is not finite at the start does not move in this step.
    /// </summary>
    public double[] Step(Func<bool[], Tensor> closure)
    {
        using var scope = torch.NewDisposeScope();
        var grad = FlatGrad(closure([.. Frozen.Select(f => !f)]), out var start);
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
                    _t[p] = first[p] ? Math.Min(1, 1 / check[_problems + p]) * _lr : _lr;
                    // Not a descent direction: stop (PyTorch's gtd > -tolerance_change).
                    if (check[p] > -ToleranceChange) active[p] = false;
                }
                if (!active.Any(a => a)) break;
                AddToParameters(direction, active);
            }
            if (n == MaxIter) break;
            grad = FlatGrad(closure((bool[])active.Clone()), out var after);
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
    /// PyTorch's loops are followed with every inner product taken from a Gram matrix rather than from the vectors: with
    /// q_i = −g − Σ_{j&gt;i} α_j·y_j, α_i = ρ_i·s_iᵀq_i = ρ_i·(−s_iᵀg − Σ_{j&gt;i} α_j·s_iᵀy_j); then q = −g − Σ α_j·y_j,
    /// r₀ = γ·q, and with r_i = r₀ + Σ_{j&lt;i} (α_j − β_j)·s_j, β_i = ρ_i·y_iᵀr_i = ρ_i·(y_iᵀr₀ + Σ_{j&lt;i} (α_j − β_j)·y_iᵀs_j),
    /// giving r = r₀ + Σ (α_j − β_j)·s_j. So the vectors enter through five batched matrix products per iteration (Sᵀg,
    /// the new pair's products with the others, Yᵀα, Y·r₀ and Sᵀ(α − β)) and the scalar recursions run on the host in
    /// float64 over the kept s_iᵀy_j: the same directions up to rounding, in a fixed handful of tensor operations instead
    /// of a dozen per stored pair.
    /// </summary>
    private Tensor TwoLoop(Tensor grad, Tensor previousDirection, bool[] active, bool[] first)
    {
        using var _ = torch.no_grad();
        for (int p = 0; p < _problems; p++)
            if (first[p]) Forget(p);
        var steps = torch.tensor(_t, device: _device).to(grad.dtype).unsqueeze(1);
        var y = grad - _previousGrad!;
        var s = previousDirection * steps;
        var ys = (y * s).sum(1);
        var yy = (y * y).sum(1);
        var ysHost = Host(ys);
        var record = new bool[_problems];
        for (int p = 0; p < _problems; p++) record[p] = active[p] && !first[p] && ysHost[p] > 1e-10;
        _hDiag ??= torch.ones(_problems, dtype: grad.dtype, device: _device).DetachFromDisposeScope();
        int[]? columns = null;
        Tensor? sNew = null, yNew = null;
        if (record.Any(r => r))
        {
            (columns, sNew, yNew) = Record(y, s, record, ysHost);
            var mask = torch.tensor(record, device: _device);
            Keep(ref _hDiag, torch.where(mask, ys / yy, _hDiag));
        }
        var gamma = _hDiag!.unsqueeze(1);
        var r = _s is null ? grad.neg() * gamma : Recursion(grad, gamma, active, columns, sNew, yNew);
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

    /// <summary>
    /// −H·g of every active problem from its stored pairs (see <see cref="TwoLoop"/>); the Gram entries of the pairs just
    /// stored (<paramref name="columns"/>[p], −1 for a problem that stored none) are filled in first, from the same host
    /// read as Sᵀg.
    /// </summary>
    private Tensor Recursion(Tensor grad, Tensor gamma, bool[] active, int[]? columns, Tensor? sNew, Tensor? yNew)
    {
        int h = _historySize;
        // Sᵀ[g, y_new] and Yᵀs_new in one read: [P, 2, h] and [P, 1, h].
        var products = sNew is null
            ? Host(Products(grad.unsqueeze(1), _s!))
            : Host(torch.cat([Products(torch.stack([grad, yNew!], 1), _s!).flatten(1), Products(sNew.unsqueeze(1), _y!).flatten(1)], 1));
        int width = sNew is null ? h : 3 * h;
        for (int p = 0; p < _problems && columns != null; p++)
        {
            int column = columns[p];
            if (column < 0) continue;
            var gram = _gram[p];
            for (int i = 0; i < h; i++)
            {
                gram[i * h + column] = products[p * width + h + i];   // s_iᵀy_new
                gram[column * h + i] = products[p * width + 2 * h + i];   // s_newᵀy_i
            }
        }
        // α and then α − β of every problem in its history order (oldest first).
        var alpha = new double[_problems * h];
        var coefficients = new double[_problems * h];
        var order = new int[h];
        for (int p = 0; p < _problems; p++)
        {
            if (!active[p]) continue;
            int m = Order(p, order);
            var gram = _gram[p];
            var a = alpha.AsSpan(p * h, h);
            for (int k = m - 1; k >= 0; k--)
            {
                int i = order[k], row = i * h;
                double sq = -products[p * width + i];
                for (int l = k + 1; l < m; l++) sq -= a[l] * gram[row + order[l]];
                a[k] = _rho[p, i] * sq;
                coefficients[p * h + i] = a[k];
            }
        }
        var q = -grad - Combine(_y!, coefficients);
        var r0 = q * gamma;
        var yr = Host(Products(r0.unsqueeze(1), _y!));
        Array.Clear(coefficients);
        var step = new double[h];
        for (int p = 0; p < _problems; p++)
        {
            if (!active[p]) continue;
            int m = Order(p, order);
            var gram = _gram[p];
            var a = alpha.AsSpan(p * h, h);
            for (int k = 0; k < m; k++)
            {
                int i = order[k];
                double yrI = yr[p * h + i];
                for (int l = 0; l < k; l++) yrI += step[l] * gram[order[l] * h + i];
                step[k] = a[k] - _rho[p, i] * yrI;
                coefficients[p * h + i] = step[k];
            }
        }
        return r0.add(Combine(_s!, coefficients), One);
    }

    /// <summary>
    /// The inner products of k vectors per problem [P, k, n] with every stored column [P, columns, n]: [P, k, columns].
    /// Written as rows times the transposed store, which libtorch hands to a matrix product; the column form
    /// (store times [P, n, k]) ran several times slower on the CPU.
    /// </summary>
    private static Tensor Products(Tensor rows, Tensor stored) => rows.to(ScalarType.Float64).bmm(stored.transpose(1, 2));

    /// <summary>Σ_i c_i·v_i of every problem with coefficients [P × history] (row-major): [P, n].</summary>
    private Tensor Combine(Tensor stored, double[] coefficients) =>
        torch.tensor(coefficients, device: _device).view(_problems, 1, -1).bmm(stored).squeeze(1).to(_dtype);

    /// <summary>Problem p's columns in history order (oldest first) into <paramref name="order"/>; returns how many.</summary>
    private int Order(int p, int[] order)
    {
        int m = Math.Min(_pairs[p], _historySize), first = _pairs[p] - m;
        for (int k = 0; k < m; k++) order[k] = (first + k) % _historySize;
        return m;
    }

    /// <summary>
    /// Stores the pair (y, s) of each problem in <paramref name="record"/> in the next column of its ring (over its
    /// oldest pair once the ring is full); returns each problem's column (−1: none) and the pairs with the other
    /// problems' rows zero, whose Gram entries <see cref="Recursion"/> fills in.
    /// </summary>
    private (int[] Columns, Tensor S, Tensor Y) Record(Tensor y, Tensor s, bool[] record, double[] ys)
    {
        if (_s is null)
        {
            _s = torch.zeros(_problems, _historySize, y.shape[1], dtype: ScalarType.Float64, device: _device).DetachFromDisposeScope();
            _y = torch.zeros_like(_s).DetachFromDisposeScope();
        }
        var columns = new int[_problems];
        var rows = new List<long>();
        for (int p = 0; p < _problems; p++)
        {
            columns[p] = -1;
            if (!record[p]) continue;
            columns[p] = _pairs[p]++ % _historySize;
            _rho[p, columns[p]] = 1 / ys[p];
            rows.Add(p);
        }
        var problems = torch.tensor(rows.ToArray(), device: _device);
        var at = torch.tensor(rows.Select(p => (long)columns[p]).ToArray(), device: _device);
        _s.index_put_(s.index_select(0, problems).to(ScalarType.Float64), problems, at);
        _y!.index_put_(y.index_select(0, problems).to(ScalarType.Float64), problems, at);
        var mask = Column(record);
        return (columns, torch.where(mask, s, torch.zeros_like(s)), torch.where(mask, y, torch.zeros_like(y)));
    }

    /// <summary>Clears one problem's history and its diagonal scale (1), as PyTorch does on a first iteration.</summary>
    private void Forget(int p)
    {
        using var _ = torch.no_grad();
        if (_pairs[p] > 0 && _s is not null)
        {
            _s[p].zero_();
            _y![p].zero_();
        }
        _pairs[p] = 0;
        for (int c = 0; c < _historySize; c++) _rho[p, c] = 0;
        _hDiag?[p].fill_(One);
    }

    private void AddToParameters(Tensor direction, bool[] active)
    {
        var steps = torch.tensor(_t.Select((t, p) => active[p] ? t : 0).ToArray(), device: _device).to(direction.dtype).unsqueeze(1);
        // Zero rows for the problems that do not move (0 · d could be NaN where d is not finite).
        var move = torch.where(Column(active), direction * steps, torch.zeros_like(direction));
        long offset = 0;
        foreach (var p in _parameters)
        {
            long n = p.numel() / _problems;
            p.add_(move.narrow(1, offset, n).reshape(p.shape), One);
            offset += n;
        }
    }

    private static void Keep(ref Tensor? field, Tensor value)
    {
        if (ReferenceEquals(field, value)) return;
        field?.Dispose();
        field = value.DetachFromDisposeScope();
    }

    public void Dispose()
    {
        _s?.Dispose();
        _y?.Dispose();
        _direction?.Dispose();
        _previousGrad?.Dispose();
        _hDiag?.Dispose();
    }
}
