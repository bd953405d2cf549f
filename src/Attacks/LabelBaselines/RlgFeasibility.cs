using Google.OrTools.LinearSolver;

namespace DefenseBench.Attacks.LabelBaselines;

/// <summary>
/// RLG's per-class test (Dang et al., NeurIPS 2021; the iLRG code's svd_infer): with V the k×C matrix of the top
/// right singular vectors of ∇Wᵀ, class i is present iff some x ∈ R^k has x·V[:, i] &gt; 0 and x·V[:, j] ≤ 0 for
/// every j ≠ i (a sample's row of P − Y has exactly one negative entry, at its label). Decided exactly by a linear
/// program (GLOP): with the columns normalised and x in the box [−1, 1]^k, maximise the margin t subject to
/// v̂_i·x ≥ t and v̂_j·x ≤ 0; the class is present iff t* exceeds <see cref="MarginTolerance"/>. The reference's
/// perceptron prefilter only saves time and is left out.
/// </summary>
public static class RlgFeasibility
{
    /// <summary>Margins below this are LP round-off, not a feasible cone (GLOP's feasibility tolerance is ~1e-7).</summary>
    public const double MarginTolerance = 1e-6;

    /// <summary>For each class (column of <paramref name="v"/>, k rows), whether its sign pattern is feasible.</summary>
    public static bool[] Present(double[,] v)
    {
        int k = v.GetLength(0), c = v.GetLength(1);
        var unit = Normalised(v);
        using var solver = Solver.CreateSolver("GLOP") ?? throw new InvalidOperationException("OR-Tools has no GLOP solver");
        var x = Enumerable.Range(0, k).Select(r => solver.MakeNumVar(-1, 1, $"x{r}")).ToArray();
        var t = solver.MakeNumVar(0, 1, "t");
        var rows = new Constraint[c];
        for (int j = 0; j < c; j++)
        {
            rows[j] = solver.MakeConstraint(double.NegativeInfinity, 0, $"c{j}");
            for (int r = 0; r < k; r++) rows[j].SetCoefficient(x[r], unit[r, j]);
        }
        var objective = solver.Objective();
        objective.SetCoefficient(t, 1);
        objective.SetMaximization();

        var present = new bool[c];
        for (int i = 0; i < c; i++)
        {
            // Row i becomes v̂_i·x − t ≥ 0; every other row stays v̂_j·x ≤ 0. GLOP re-solves from the last basis.
            rows[i].SetBounds(0, double.PositiveInfinity);
            rows[i].SetCoefficient(t, -1);
            var status = solver.Solve();
            present[i] = status == Solver.ResultStatus.OPTIMAL && t.SolutionValue() > MarginTolerance;
            rows[i].SetCoefficient(t, 0);
            rows[i].SetBounds(double.NegativeInfinity, 0);
        }
        return present;
    }

    /// <summary>Columns scaled to unit length (a zero column stays zero): positive scaling keeps every sign test.</summary>
    private static double[,] Normalised(double[,] v)
    {
        int k = v.GetLength(0), c = v.GetLength(1);
        var unit = new double[k, c];
        for (int j = 0; j < c; j++)
        {
            double norm = 0;
            for (int r = 0; r < k; r++) norm += v[r, j] * v[r, j];
            norm = Math.Sqrt(norm);
            for (int r = 0; r < k; r++) unit[r, j] = norm > 0 ? v[r, j] / norm : 0;
        }
        return unit;
    }
}
