namespace DefenseBench.Harness.Baselines;

/// <summary>One cell's verdict: the cell as the run (else, for a cell only in the baseline, the baseline) describes it, and what of it moved.</summary>
public sealed record CellVerdict(BaselineCell Cell, IReadOnlyList<Movement> Moved)
{
    public bool Passed => Moved.Count == 0;
}

/// <summary>
/// What one `verify` found, cell by cell, for the reports CI reads (README: Verify in CI): every cell of the run in
/// matrix order, then every cell only in the baseline. A cell fails exactly when <see cref="Verifier.Compare"/> lists
/// a movement of it, so the reports and verify's exit code cannot disagree.
/// </summary>
public sealed record VerifyOutcome(string Matrix, string Baseline, IReadOnlyList<CellVerdict> Cells)
{
    public static VerifyOutcome Of(string matrix, string baseline, IReadOnlyList<BaselineCell> now, IReadOnlyList<Movement> moved)
    {
        var byCell = moved.ToLookup(m => m.CellId);
        var cells = now.Select(c => new CellVerdict(c, byCell[c.CellId].ToArray()))
            .Concat(moved.Where(m => m.Now == null).Select(m => new CellVerdict(m.Baseline!, [m])))
            .ToArray();
        return new VerifyOutcome(matrix, baseline, cells);
    }

    public int Failed => Cells.Count(c => !c.Passed);

    public bool Passed => Failed == 0;

    /// <summary>Cells the baseline holds and the run does not.</summary>
    public int MissingFromRun => Cells.Count(c => c.Moved.Any(m => m.Now == null));

    /// <summary>Cells the run holds and the baseline does not.</summary>
    public int NotInBaseline => Cells.Count(c => c.Moved.Any(m => m.Baseline == null));
}
