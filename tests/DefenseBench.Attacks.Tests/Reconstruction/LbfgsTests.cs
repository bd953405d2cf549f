using DefenseBench.Attacks.Reconstruction;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Tests.Reconstruction;

/// <summary>
/// The batched L-BFGS against a line-by-line transcription of PyTorch's torch.optim.LBFGS.step (no line search, the
/// DLG code's setting) in plain float64 arrays, one problem at a time. Every problem is a smooth strongly convex
/// function of its own conditioning, so the problems stop after different numbers of iterations: the ones still going
/// record pairs and evict old ones while the stopped ones hold theirs, which is what the shared storage of the pairs
/// must get right.
/// </summary>
public sealed class LbfgsTests
{
    private const int Dimension = 6;

    /// <summary>f(x) = ½·Σ a_i·x_i² + log Σ exp(x_i) + Σ b_i·x_i and its gradient a⊙x + softmax(x) + b.</summary>
    private sealed record Problem(double[] A, double[] B, double[] Start)
    {
        public double Value(double[] x)
        {
            double max = x.Max();
            return Enumerable.Range(0, x.Length).Sum(i => 0.5 * A[i] * x[i] * x[i] + B[i] * x[i]) + max + Math.Log(x.Sum(v => Math.Exp(v - max)));
        }

        public double[] Gradient(double[] x)
        {
            double max = x.Max(), total = x.Sum(v => Math.Exp(v - max));
            return Enumerable.Range(0, x.Length).Select(i => A[i] * x[i] + Math.Exp(x[i] - max) / total + B[i]).ToArray();
        }
    }

    private static Problem[] Problems(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(p =>
        {
            // Curvatures from 0.05 to 5 times a per-problem scale: some problems converge in a few iterations, some need many.
            double scale = Math.Pow(10, p % 3 - 1);
            return new Problem(
                [.. Enumerable.Range(0, Dimension).Select(_ => scale * (0.05 + 5 * random.NextDouble()))],
                [.. Enumerable.Range(0, Dimension).Select(_ => random.NextDouble() - 0.5)],
                [.. Enumerable.Range(0, Dimension).Select(_ => 4 * random.NextDouble() - 2)]);
        }).ToArray();
    }

    /// <summary>torch.optim.LBFGS with line_search_fn=None for one problem, state kept across steps, as in torch/optim/lbfgs.py.</summary>
    private sealed class Reference(Problem problem, double lr, int historySize)
    {
        public double[] X { get; } = (double[])problem.Start.Clone();
        public int FuncEvals { get; private set; }
        private int _nIter;
        private double[]? _d, _prevFlatGrad;
        private double _t, _hDiag = 1;
        private readonly List<double[]> _oldDirs = [], _oldStps = [];
        private readonly List<double> _ro = [];

        private static double Dot(double[] u, double[] v) => u.Zip(v, (a, b) => a * b).Sum();

        public double Step()
        {
            double origLoss = problem.Value(X), loss = origLoss;
            var flatGrad = problem.Gradient(X);
            int currentEvals = 1;
            FuncEvals++;
            if (flatGrad.Max(Math.Abs) <= Lbfgs.ToleranceGrad) return origLoss;
            int nIter = 0;
            while (nIter < Lbfgs.MaxIter)
            {
                nIter++;
                _nIter++;
                if (_nIter == 1)
                {
                    _d = [.. flatGrad.Select(g => -g)];
                    _oldDirs.Clear();
                    _oldStps.Clear();
                    _ro.Clear();
                    _hDiag = 1;
                }
                else
                {
                    var y = flatGrad.Zip(_prevFlatGrad!, (a, b) => a - b).ToArray();
                    var s = _d!.Select(v => v * _t).ToArray();
                    double ys = Dot(y, s);
                    if (ys > 1e-10)
                    {
                        if (_oldDirs.Count == historySize)
                        {
                            _oldDirs.RemoveAt(0);
                            _oldStps.RemoveAt(0);
                            _ro.RemoveAt(0);
                        }
                        _oldDirs.Add(y);
                        _oldStps.Add(s);
                        _ro.Add(1 / ys);
                        _hDiag = ys / Dot(y, y);
                    }
                    int numOld = _oldDirs.Count;
                    var al = new double[numOld];
                    var q = flatGrad.Select(g => -g).ToArray();
                    for (int i = numOld - 1; i >= 0; i--)
                    {
                        al[i] = Dot(_oldStps[i], q) * _ro[i];
                        for (int j = 0; j < q.Length; j++) q[j] -= al[i] * _oldDirs[i][j];
                    }
                    var r = q.Select(v => v * _hDiag).ToArray();
                    for (int i = 0; i < numOld; i++)
                    {
                        double beI = Dot(_oldDirs[i], r) * _ro[i];
                        for (int j = 0; j < r.Length; j++) r[j] += (al[i] - beI) * _oldStps[i][j];
                    }
                    _d = r;
                }
                _prevFlatGrad = (double[])flatGrad.Clone();
                double prevLoss = loss;
                _t = _nIter == 1 ? Math.Min(1, 1 / flatGrad.Sum(Math.Abs)) * lr : lr;
                double gtd = Dot(flatGrad, _d!);
                if (gtd > -Lbfgs.ToleranceChange) break;
                int lsFuncEvals = 0;
                for (int j = 0; j < X.Length; j++) X[j] += _t * _d![j];
                bool optCond = false;
                if (nIter != Lbfgs.MaxIter)
                {
                    loss = problem.Value(X);
                    flatGrad = problem.Gradient(X);
                    optCond = flatGrad.Max(Math.Abs) <= Lbfgs.ToleranceGrad;
                    lsFuncEvals = 1;
                }
                currentEvals += lsFuncEvals;
                FuncEvals += lsFuncEvals;
                if (nIter == Lbfgs.MaxIter || currentEvals >= Lbfgs.MaxEval || optCond) break;
                if (_d!.Max(v => Math.Abs(v * _t)) <= Lbfgs.ToleranceChange) break;
                if (Math.Abs(loss - prevLoss) < Lbfgs.ToleranceChange) break;
            }
            return origLoss;
        }
    }

    /// <summary>All problems' f as one autograd closure over x [P, n] (float64), the gradient of their sum in x.grad.</summary>
    private static Tensor Losses(Tensor x, Problem[] problems, Scalar half)
    {
        var a = torch.tensor(problems.SelectMany(p => p.A).ToArray(), dtype: ScalarType.Float64).view(problems.Length, Dimension);
        var b = torch.tensor(problems.SelectMany(p => p.B).ToArray(), dtype: ScalarType.Float64).view(problems.Length, Dimension);
        return (a * x * x).sum(1).mul(half) + torch.logsumexp(x, 1) + (b * x).sum(1);
    }

    [Theory]
    [InlineData(3, 1.0)]
    [InlineData(Lbfgs.HistorySize, 1.0)]
    [InlineData(5, 0.5)]
    public void Every_problem_follows_pytorchs_lbfgs_step_for_step(int historySize, double lr)
    {
        using var scope = torch.NewDisposeScope();
        using var half = 0.5.ToScalar();
        var problems = Problems(7, seed: historySize);
        var references = problems.Select(p => new Reference(p, lr, historySize)).ToArray();
        var x = torch.tensor(problems.SelectMany(p => p.Start).ToArray(), dtype: ScalarType.Float64).view(problems.Length, Dimension).requires_grad_(true);
        using var lbfgs = new Lbfgs([x], lr, historySize);
        for (int step = 0; step < 12; step++)
        {
            var loss = lbfgs.Step(_ =>
            {
                x.grad?.zero_();
                var l = Losses(x, problems, half);
                l.sum().backward();
                return l;
            });
            var state = x.detach().data<double>().ToArray();
            for (int p = 0; p < problems.Length; p++)
            {
                double expected = references[p].Step();
                Assert.Equal(expected, loss[p], 1e-9);
                for (int j = 0; j < Dimension; j++)
                    Assert.True(Math.Abs(state[p * Dimension + j] - references[p].X[j]) <= 1e-9 * (1 + Math.Abs(references[p].X[j])),
                        $"problem {p}, step {step}, x[{j}]: {state[p * Dimension + j]} against PyTorch's {references[p].X[j]}");
                Assert.Equal(references[p].FuncEvals, lbfgs.Evaluations[p]);
            }
        }
        // The set is only a test of shared storage if some problems stopped while others went on.
        var evaluations = references.Select(r => r.FuncEvals).ToArray();
        Assert.True(evaluations.Distinct().Count() > 2, $"evaluations per problem: {string.Join(", ", evaluations)}");
    }
}
