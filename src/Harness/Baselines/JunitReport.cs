using System.Text;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Baselines;

/// <summary>
/// `verify --junit`: the outcome as a JUnit XML file, the format GitLab's test reports and GitHub's JUnit actions read
/// (README: Verify in CI). One testsuite for the matrix, one testcase per cell named by its cell id, with the matrix and
/// block as classname; a cell that moved fails, its failure's message naming each moved metric and its text listing
/// the metric's baseline and current value, the difference and the tolerance. Cells only in the baseline or only in
/// the run fail as verify fails them. Written by hand with every data value through <see cref="Escape.Html"/>, so a
/// crafted cell id stays text and the file still parses.
/// </summary>
public static class JunitReport
{
    public static string Render(VerifyOutcome outcome)
    {
        string counts = $"tests=\"{outcome.Cells.Count}\" failures=\"{outcome.Failed}\" errors=\"0\" skipped=\"0\"";
        var xml = new StringBuilder();
        xml.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.Append($"<testsuites name=\"defensebench verify\" {counts}>\n");
        xml.Append($"  <testsuite name=\"{Escape.Html(outcome.Matrix)}\" {counts}>\n");
        xml.Append($"    <properties>\n      <property name=\"baseline\" value=\"{Escape.Html(outcome.Baseline)}\"/>\n    </properties>\n");
        foreach (var verdict in outcome.Cells)
        {
            var c = verdict.Cell;
            string head = $"    <testcase name=\"{Escape.Html(c.CellId)}\" classname=\"{Escape.Html(outcome.Matrix + "." + c.Block)}\"";
            if (verdict.Passed)
            {
                xml.Append(head).Append("/>\n");
                continue;
            }
            string message = string.Join("; ", verdict.Moved.Select(m => m.Describe()));
            string text = string.Join("\n", [$"attack {c.AttackText}, defense {c.Defense}, scenario {c.Scenario}",
                .. verdict.Moved.Select(m => m.Describe())]);
            xml.Append(head).Append(">\n");
            xml.Append($"      <failure message=\"{Escape.Html(message)}\" type=\"{Kind(verdict)}\">{Escape.Html(text)}</failure>\n");
            xml.Append("    </testcase>\n");
        }
        xml.Append("  </testsuite>\n</testsuites>\n");
        return xml.ToString();
    }

    /// <summary>The failure's type: why the cell fails, for readers that group failures.</summary>
    private static string Kind(CellVerdict verdict) =>
        verdict.Moved.Any(m => m.Now == null) ? "missing-from-run"
        : verdict.Moved.Any(m => m.Baseline == null) ? "not-in-baseline"
        : "moved";
}
