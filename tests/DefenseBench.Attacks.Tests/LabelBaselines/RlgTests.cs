using DefenseBench.Attacks.LabelBaselines;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Tests.LabelBaselines;

public sealed class RlgTests
{
    /// <summary>
    /// Brute force for k ∈ {2, 3}: the cone {x : v_j·x ≤ 0, j ≠ i} is pointed for generic columns, so v_i·x &gt; 0
    /// somewhere on it iff it holds on one of its extreme rays, and every extreme ray lies on k − 1 of the boundary
    /// hyperplanes: ±perp(v_a) for k = 2, ±(v_a × v_b) for k = 3. Enumerate them all and test each.
    /// </summary>
    private static bool BruteForce(double[,] v, int i)
    {
        int k = v.GetLength(0), c = v.GetLength(1);
        double[] Column(int j) => Enumerable.Range(0, k).Select(r => v[r, j]).ToArray();
        var others = Enumerable.Range(0, c).Where(j => j != i).ToArray();
        var rays = new List<double[]>();
        if (k == 2)
            foreach (int a in others) rays.Add([-v[1, a], v[0, a]]);
        else
            foreach (int a in others)
                foreach (int b in others.Where(b => b > a))
                {
                    double[] p = Column(a), q = Column(b);
                    rays.Add([p[1] * q[2] - p[2] * q[1], p[2] * q[0] - p[0] * q[2], p[0] * q[1] - p[1] * q[0]]);
                }
        double Dot(double[] x, int j) => Enumerable.Range(0, k).Sum(r => x[r] * v[r, j]);
        foreach (var ray in rays)
            foreach (double sign in new[] { 1.0, -1.0 })
            {
                var x = ray.Select(e => sign * e).ToArray();
                double norm = Math.Sqrt(x.Sum(e => e * e));
                if (norm < 1e-12) continue;
                if (others.All(j => Dot(x, j) <= 1e-9 * norm) && Dot(x, i) > 1e-6 * norm) return true;
            }
        return false;
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(2, 6)]
    [InlineData(3, 5)]
    [InlineData(3, 7)]
    public void The_feasibility_lp_agrees_with_brute_force_on_tiny_random_cases(int k, int c)
    {
        int feasible = 0, infeasible = 0;
        for (ulong seed = 0; seed < 40; seed++)
        {
            var rng = new Rng(seed);
            var v = new double[k, c];
            for (int r = 0; r < k; r++)
                for (int j = 0; j < c; j++) v[r, j] = rng.NextGaussian();

            var lp = RlgFeasibility.Present(v);

            for (int i = 0; i < c; i++)
            {
                Assert.True(BruteForce(v, i) == lp[i], $"seed {seed}, class {i}: LP says {lp[i]}");
                if (lp[i]) feasible++;
                else infeasible++;
            }
        }
        // Both outcomes occur, so the agreement is not trivial.
        Assert.True(feasible > 10 && infeasible > 10, $"{feasible} feasible, {infeasible} infeasible");
    }

    [Fact]
    public void Rlg_finds_exactly_the_present_classes_when_the_batch_is_smaller_than_the_embedding()
    {
        using var scope = torch.NewDisposeScope();
        const int b = 12, c = 30, d = 64;
        var rng = new Rng(3);
        var labels = Enumerable.Range(0, b).Select(_ => rng.NextInt(10)).ToArray();
        var generator = new Generator(5, torch.CPU);
        var p = torch.nn.functional.softmax(torch.randn([b, c], dtype: ScalarType.Float64, generator: generator), 1);
        var y = torch.nn.functional.one_hot(torch.tensor(labels.Select(l => (long)l).ToArray()), c).to(ScalarType.Float64);
        var embeddings = torch.rand([b, d], dtype: ScalarType.Float64, generator: generator);
        // ∇W = (P − Y)ᵀE / B: the closed form of the mean cross-entropy's last-layer gradient.
        var weightGrad = (p - y).t().matmul(embeddings) / b;

        var present = RlgFeasibility.Present(Rlg.SingularBasis(weightGrad, b));

        Assert.Equal(Enumerable.Range(0, c).Select(k => labels.Contains(k)), present);
    }
}
