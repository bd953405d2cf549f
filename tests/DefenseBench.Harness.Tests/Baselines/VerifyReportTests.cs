using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using System.Xml.Schema;
using DefenseBench.Harness.Baselines;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;
using Snapshooter.Xunit;

namespace DefenseBench.Harness.Tests.Baselines;

/// <summary>
/// verify's reports for CI (README: Verify in CI) from hand-made baselines and runs: the JUnit file against the
/// structure JUnit readers require, the Markdown against hostile cell ids, both against verify's own verdict.
/// </summary>
public sealed partial class VerifyReportTests
{
    /// <summary>
    /// What GitLab's and GitHub's JUnit readers need, after the common JUnit schema (Jenkins' junit-10.xsd): testsuites
    /// holding testsuite elements with a name and counts; testcase elements with a name and a classname; a failure with
    /// a message.
    /// </summary>
    private const string Schema = """
        <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
          <xs:attributeGroup name="counts">
            <xs:attribute name="tests" type="xs:nonNegativeInteger" use="required"/>
            <xs:attribute name="failures" type="xs:nonNegativeInteger" use="required"/>
            <xs:attribute name="errors" type="xs:nonNegativeInteger"/>
            <xs:attribute name="skipped" type="xs:nonNegativeInteger"/>
            <xs:attribute name="time" type="xs:decimal"/>
          </xs:attributeGroup>
          <xs:element name="testsuites">
            <xs:complexType>
              <xs:sequence><xs:element ref="testsuite" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
              <xs:attribute name="name" type="xs:string"/>
              <xs:attributeGroup ref="counts"/>
            </xs:complexType>
          </xs:element>
          <xs:element name="testsuite">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="properties" minOccurs="0">
                  <xs:complexType>
                    <xs:sequence>
                      <xs:element name="property" minOccurs="0" maxOccurs="unbounded">
                        <xs:complexType>
                          <xs:attribute name="name" type="xs:string" use="required"/>
                          <xs:attribute name="value" type="xs:string" use="required"/>
                        </xs:complexType>
                      </xs:element>
                    </xs:sequence>
                  </xs:complexType>
                </xs:element>
                <xs:element name="testcase" minOccurs="0" maxOccurs="unbounded">
                  <xs:complexType>
                    <xs:sequence>
                      <xs:element name="failure" minOccurs="0">
                        <xs:complexType>
                          <xs:simpleContent>
                            <xs:extension base="xs:string">
                              <xs:attribute name="message" type="xs:string" use="required"/>
                              <xs:attribute name="type" type="xs:string"/>
                            </xs:extension>
                          </xs:simpleContent>
                        </xs:complexType>
                      </xs:element>
                    </xs:sequence>
                    <xs:attribute name="name" type="xs:string" use="required"/>
                    <xs:attribute name="classname" type="xs:string" use="required"/>
                    <xs:attribute name="time" type="xs:decimal"/>
                  </xs:complexType>
                </xs:element>
              </xs:sequence>
              <xs:attribute name="name" type="xs:string" use="required"/>
              <xs:attributeGroup ref="counts"/>
            </xs:complexType>
          </xs:element>
        </xs:schema>
        """;

    private static readonly MatrixSpec Matrix = MatrixLoader.Parse(VerifiedRun.Yaml, "tiny-verify.yaml");

    private static BaselineCell Cell(string id, double asr, string block = "v") =>
        new(id, block, "llg", "", "none", "synthetic-mnist dlg-lenet B=4", 2, CellRow.Ok, new Dictionary<string, double> { ["asr"] = asr });

    /// <summary>One cell within tolerance, one moved (asr 0.8 to 0.6), one only in the baseline, one only in the run.</summary>
    private static VerifyOutcome FourCells()
    {
        BaselineCell[] baseline = [Cell("aaaaaaaaaaaa", 0.5), Cell("bbbbbbbbbbbb", 0.8), Cell("cccccccccccc", 0.3)];
        BaselineCell[] now = [Cell("aaaaaaaaaaaa", 0.51), Cell("bbbbbbbbbbbb", 0.6), Cell("dddddddddddd", 0.4, block: "w")];
        return VerifyOutcome.Of("tiny-verify", "results/baselines/tiny-verify.csv", now, Verifier.Compare(Matrix, baseline, now));
    }

    /// <summary>The report parsed and checked against <see cref="Schema"/>; a schema violation fails the test with its message.</summary>
    private static XDocument Validated(string junit)
    {
        var schemas = new XmlSchemaSet();
        using (var reader = XmlReader.Create(new StringReader(Schema))) schemas.Add(null, reader);
        var doc = XDocument.Parse(junit);
        doc.Validate(schemas, (_, e) => Assert.Fail($"{e.Severity}: {e.Message}\n{junit}"));
        return doc;
    }

    private static int Count(XElement e, string attribute) => int.Parse(e.Attribute(attribute)!.Value, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void The_junit_report_has_the_required_structure_and_consistent_counts()
    {
        var doc = Validated(JunitReport.Render(FourCells()));

        var root = doc.Root!;
        Assert.Equal("testsuites", root.Name.LocalName);
        var suite = Assert.Single(root.Elements("testsuite"));
        Assert.Equal("tiny-verify", suite.Attribute("name")!.Value);
        var cases = suite.Elements("testcase").ToArray();
        Assert.All(cases, c => Assert.False(string.IsNullOrEmpty(c.Attribute("name")?.Value)));
        Assert.All(cases, c => Assert.False(string.IsNullOrEmpty(c.Attribute("classname")?.Value)));
        var failures = cases.Elements("failure").ToArray();
        Assert.All(failures, f => Assert.False(string.IsNullOrWhiteSpace(f.Attribute("message")?.Value)));
        foreach (var level in new[] { root, suite })
        {
            Assert.Equal(cases.Length, Count(level, "tests"));
            Assert.Equal(failures.Length, Count(level, "failures"));
        }
    }

    [Fact]
    public void Every_cell_of_the_run_and_of_the_baseline_is_a_test_case_that_fails_as_verify_fails_it()
    {
        var suite = Validated(JunitReport.Render(FourCells())).Root!.Element("testsuite")!;

        var cases = suite.Elements("testcase").ToDictionary(c => c.Attribute("name")!.Value);
        Assert.Equal(["aaaaaaaaaaaa", "bbbbbbbbbbbb", "dddddddddddd", "cccccccccccc"], cases.Keys);
        Assert.Null(cases["aaaaaaaaaaaa"].Element("failure"));
        Assert.Equal("tiny-verify.v", cases["aaaaaaaaaaaa"].Attribute("classname")!.Value);
        Assert.Equal("tiny-verify.w", cases["dddddddddddd"].Attribute("classname")!.Value);
        var moved = cases["bbbbbbbbbbbb"].Element("failure")!;
        Assert.Equal("moved", moved.Attribute("type")!.Value);
        Assert.Equal("asr: baseline 0.8, now 0.6, difference -0.2, tolerance 0.05", moved.Attribute("message")!.Value);
        Assert.Contains("asr: baseline 0.8, now 0.6, difference -0.2, tolerance 0.05", moved.Value, StringComparison.Ordinal);
        Assert.Contains("defense none", moved.Value, StringComparison.Ordinal);
        Assert.Equal("missing-from-run", cases["cccccccccccc"].Element("failure")!.Attribute("type")!.Value);
        Assert.Contains("cell missing from the run", cases["cccccccccccc"].Element("failure")!.Attribute("message")!.Value, StringComparison.Ordinal);
        Assert.Equal("not-in-baseline", cases["dddddddddddd"].Element("failure")!.Attribute("type")!.Value);
    }

    [Fact]
    public void A_run_within_tolerance_is_a_report_without_failures()
    {
        BaselineCell[] cells = [Cell("aaaaaaaaaaaa", 0.5), Cell("bbbbbbbbbbbb", 0.8)];
        var outcome = VerifyOutcome.Of("tiny-verify", "b.csv", cells, Verifier.Compare(Matrix, cells, cells));

        var suite = Validated(JunitReport.Render(outcome)).Root!.Element("testsuite")!;
        string markdown = MarkdownReport.Render(outcome);

        Assert.Equal(2, suite.Elements("testcase").Count());
        Assert.Empty(suite.Descendants("failure"));
        Assert.StartsWith("### DefenseBench verify tiny-verify: passed", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("| cell |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void The_markdown_report_matches_its_snapshot() => Snapshot.Match(MarkdownReport.Render(FourCells()).Split('\n'));

    [GeneratedRegex(@"(?<!\\)\|")]
    private static partial Regex UnescapedPipe();

    /// <summary>A cell whose id, block, defence and scenario are all the payload, its asr moved beyond tolerance.</summary>
    private static VerifyOutcome Hostile(string payload)
    {
        BaselineCell Hostile(double asr) => Cell(payload, asr, block: payload) with { Defense = payload, Scenario = payload };
        return VerifyOutcome.Of(payload, payload, [Hostile(0.2)], Verifier.Compare(Matrix, [Hostile(0.9)], [Hostile(0.2)]));
    }

    [Theory]
    [MemberData(nameof(HostileText.Each), MemberType = typeof(HostileText))]
    public void A_hostile_cell_id_stays_one_row_of_text_in_the_markdown_report_with_its_moved_metric(string payload)
    {
        string markdown = MarkdownReport.Render(Hostile(payload));

        Assert.DoesNotContain('<', markdown);
        Assert.Contains(Escape.Markdown(payload), markdown, StringComparison.Ordinal);
        var rows = markdown.Split('\n').Where(l => l.StartsWith('|')).ToArray();
        // The counts table (header, rule, one row) and the moved table (header, rule, one row), each row of its table's width.
        Assert.Equal(6, rows.Length);
        Assert.All(rows[..3], r => Assert.Equal(6, UnescapedPipe().Matches(r.Replace("\\\\", "", StringComparison.Ordinal)).Count));
        Assert.All(rows[3..], r => Assert.Equal(11, UnescapedPipe().Matches(r.Replace("\\\\", "", StringComparison.Ordinal)).Count));
        Assert.Contains("| asr | 0.9 | 0.2 | -0.7 | 0.05 |", rows[^1], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(HostileText.Each), MemberType = typeof(HostileText))]
    public void A_hostile_cell_id_stays_the_text_of_one_failing_test_case_in_the_junit_report(string payload)
    {
        var doc = Validated(JunitReport.Render(Hostile(payload)));

        var testcase = Assert.Single(doc.Descendants("testcase"));
        Assert.Equal(Escape.Terminal(payload).Replace('\n', ' ').Replace('\r', ' '), testcase.Attribute("name")!.Value);
        var failure = Assert.Single(testcase.Elements("failure"));
        Assert.Empty(failure.Elements());
        Assert.Contains("asr: baseline 0.9, now 0.2", failure.Attribute("message")!.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_list_of_movements_is_cut_to_fit_a_pull_request_comment()
    {
        var baseline = Enumerable.Range(0, MarkdownReport.MaxRows + 7).Select(i => Cell($"{i:x12}", 0.9)).ToArray();
        var now = baseline.Select(c => c with { Metrics = new Dictionary<string, double> { ["asr"] = 0.1 } }).ToArray();
        var outcome = VerifyOutcome.Of("tiny-verify", "b.csv", now, Verifier.Compare(Matrix, baseline, now));

        string markdown = MarkdownReport.Render(outcome);

        Assert.Equal(MarkdownReport.MaxRows, markdown.Split('\n').Count(l => l.Contains("| asr |", StringComparison.Ordinal)));
        Assert.Contains("… and 7 more rows", markdown, StringComparison.Ordinal);
        Assert.Contains($"| {MarkdownReport.MaxRows + 7} | 0 | {MarkdownReport.MaxRows + 7} | 0 | 0 |", markdown, StringComparison.Ordinal);
    }
}
