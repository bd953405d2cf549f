using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Baselines;

/// <summary>
/// `verify --markdown`: the outcome as Markdown for a GitHub job summary or a pull-request comment (README: Verify in
/// CI): a status line, the counts, and a table of what moved, one row per moved metric (status change, missing cell).
/// Every data value goes through <see cref="Escape.Markdown"/>, so a crafted cell id cannot break the table or add live
/// HTML. The table stops at <see cref="MaxRows"/> rows, keeping the text within what a pull-request comment takes
/// (65,536 characters); the JUnit report and verify's own output list every row.
/// </summary>
public static class MarkdownReport
{
    public const int MaxRows = 100;

    public static string Render(VerifyOutcome outcome)
    {
        string matrix = Escape.Markdown(outcome.Matrix), baseline = Escape.Markdown(outcome.Baseline);
        var lines = new List<string>
        {
            $"### DefenseBench verify {matrix}: {(outcome.Passed ? "passed" : "failed")}",
            "",
            outcome.Passed
                ? $"All {outcome.Cells.Count} cells are within tolerance of the baseline {baseline}."
                : $"{outcome.Failed} of {outcome.Cells.Count} cells moved beyond tolerance of the baseline {baseline}; " +
                  "re-accept the baseline (verify --accept) if the change is intended.",
            "",
            "| cells | passed | failed | missing from the run | not in the baseline |",
            "|---:|---:|---:|---:|---:|",
            $"| {outcome.Cells.Count} | {outcome.Cells.Count - outcome.Failed} | {outcome.Failed} | {outcome.MissingFromRun} | {outcome.NotInBaseline} |",
        };
        var moved = outcome.Cells.SelectMany(c => c.Moved).ToArray();
        if (moved.Length > 0)
        {
            lines.Add("");
            lines.Add("| cell | block | attack | defense | scenario | what | baseline | now | difference | tolerance |");
            lines.Add("|---|---|---|---|---|---|---:|---:|---:|---:|");
            foreach (var m in moved.Take(MaxRows))
            {
                var c = m.Cell;
                string[] fields =
                [
                    Escape.Markdown(m.CellId), Escape.Markdown(c.Block), Escape.Markdown(c.AttackText), Escape.Markdown(c.Defense),
                    Escape.Markdown(c.Scenario), Escape.Markdown(m.What), Verifier.Format(m.Was), Verifier.Format(m.Is), Verifier.Signed(m.Difference),
                    Verifier.Format(m.Tolerance),
                ];
                lines.Add($"| {string.Join(" | ", fields)} |");
            }
            if (moved.Length > MaxRows)
            {
                lines.Add("");
                lines.Add($"… and {moved.Length - MaxRows} more rows: see the JUnit report or verify's output.");
            }
        }
        return string.Join("\n", lines) + "\n";
    }
}
