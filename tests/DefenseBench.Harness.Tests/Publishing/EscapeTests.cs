using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using DefenseBench.Harness.Publishing;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Publishing;

/// <summary>Every data value in Markdown, HTML, SVG, JSON and terminal output is text, never markup: one payload list for all.</summary>
public sealed partial class EscapeTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [GeneratedRegex(@"(?<!\\)[|\[\]`*_~]")]
    private static partial Regex UnescapedMarkdown();

    [Theory]
    [MemberData(nameof(HostileText.Each), MemberType = typeof(HostileText))]
    public void Markdown_keeps_a_value_on_its_line_and_out_of_markup(string payload)
    {
        string md = Escape.Markdown(payload);

        Assert.DoesNotContain('\n', md);
        Assert.DoesNotContain('\r', md);
        Assert.DoesNotContain('<', md);
        Assert.DoesNotContain('>', md);
        Assert.Empty(UnescapedMarkdown().Matches(md.Replace("\\\\", "", StringComparison.Ordinal)));
        Assert.False(md.Any(char.IsControl), md);
    }

    [Theory]
    [MemberData(nameof(HostileText.Each), MemberType = typeof(HostileText))]
    public void Html_and_svg_text_is_well_formed_xml_text_that_reads_back_as_the_printable_value(string payload)
    {
        var element = XElement.Parse($"<text a=\"{Escape.Html(payload)}\">{Escape.Html(payload)}</text>");

        Assert.Empty(element.Elements());
        // XML turns a line break in an attribute into a space; otherwise both read back the same text.
        Assert.Equal(element.Value.Replace('\n', ' '), element.Attribute("a")!.Value);
        Assert.DoesNotContain('\0', element.Value);
    }

    [Theory]
    [MemberData(nameof(HostileText.Each), MemberType = typeof(HostileText))]
    public void Terminal_text_carries_no_escape_sequence(string payload) =>
        Assert.DoesNotContain(Escape.Terminal(payload), c => char.IsControl(c) && c != '\n');

    /// <summary>A results folder whose every text column and manifest field holds a payload, one per setting.</summary>
    private string HostileRun()
    {
        string folder = _temp["hostile"];
        Directory.CreateDirectory(folder);
        var rows = HostileText.Payloads.SelectMany((p, i) => new[] { 0, 1, 2 }.Select(seed =>
            SampleRows.Ok(i % 2 == 0 ? "llg" : p, p, i == 0 ? "none" : $"{p}(keep={i})", 0.5 + 0.01 * i, seed: seed) with
            {
                CellId = $"c{i}",
                Block = p,
                Dataset = i == 0 ? "synthetic-mnist" : "synthetic-mnist",
                UtilityDrop = 0.001 * i,
                UtilityAcc = 0.9,
                WireBytes = 100 - i,
            })).ToList();
        CellsCsv.Write(Path.Combine(folder, CellsCsv.FileName), rows);
        File.WriteAllText(Path.Combine(folder, Manifest.FileName), JsonSerializer.Serialize(new
        {
            harness = "defensebench", harness_version = HostileText.Payloads[0], git_commit = HostileText.Payloads[1], matrix = HostileText.Payloads[4],
            matrix_path = "", matrix_sha256 = HostileText.Payloads[2], device = HostileText.Payloads[11],
        }));
        return folder;
    }

    [Fact]
    public void A_leaderboard_of_a_hostile_folder_has_no_live_markup_in_any_of_its_files()
    {
        string folder = HostileRun();
        var result = InProcess.Expect(0, "leaderboard", folder, "--budget", "none");

        string md = File.ReadAllText(Path.Combine(folder, "leaderboard.md"));
        string html = File.ReadAllText(Path.Combine(folder, "leaderboard.html"));
        string json = File.ReadAllText(Path.Combine(folder, LeaderboardDocument.FileName));
        // The page's own script (sorting, allowed by its hash) is the one script element; no other comes from the folder.
        html = html.Replace($"<script>{BoardPageAssets.Script}</script>", "", StringComparison.Ordinal);
        foreach (string live in new[] { "<script", "<img", "<h1>raw", "<javascript:" })
        {
            Assert.DoesNotContain(live, md, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(live, html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(live, json, StringComparison.OrdinalIgnoreCase);
        }
        Assert.DoesNotMatch(@"(?<!\\)\]\(javascript:", md); // a link forms only from an unescaped ](
        // Every line of the Markdown is one of ours: a heading, a list item, a table row with the header's cell count, or prose.
        var lines = md.Split('\n');
        using var parsed = JsonDocument.Parse(json);
        Assert.Equal(1 + parsed.RootElement.GetProperty("boards").GetArrayLength(), lines.Count(l => l.StartsWith('#')));
        Assert.DoesNotContain(lines, l => l.StartsWith('<'));
        foreach (var table in lines.Where(l => l.StartsWith('|')).GroupBy(l => l.Length > 0))
        {
            int cells = UnescapedPipes(table.First());
            Assert.All(table, l => Assert.Equal(cells, UnescapedPipes(l)));
        }
        foreach (var svg in Regex.Matches(html, "<svg.*?</svg>", RegexOptions.Singleline).Select(m => XElement.Parse(m.Value)))
            Assert.DoesNotContain(svg.DescendantsAndSelf(), e => e.Name.LocalName is "script" or "a" or "foreignObject" || e.Attributes().Any(a => a.Name.LocalName.StartsWith("on", StringComparison.Ordinal)));
        Assert.DoesNotContain('\u001b', result.Stdout);
    }

    private static int UnescapedPipes(string line) => Regex.Matches(line.Replace("\\\\", "", StringComparison.Ordinal), @"(?<!\\)\|").Count;

    [Fact]
    public void Recommend_on_a_hostile_folder_writes_a_well_formed_svg_and_inert_json()
    {
        string folder = _temp["rec"];
        Directory.CreateDirectory(folder);
        string family = "topk";
        var rows = new[] { 0.5, 0.1 }.SelectMany(keep => new[] { 0, 1, 2 }.Select(seed =>
            SampleRows.Ok(HostileText.Payloads[0], "", $"{family}(keep={keep},scope=<img src=x onerror=alert(1)>)", 0.3, seed: seed) with
            {
                CellId = $"k{keep}",
                UtilityDrop = 0.001,
                WireBytes = 100 * keep,
            }));
        CellsCsv.Write(Path.Combine(folder, CellsCsv.FileName), rows);

        var result = InProcess.Expect(0, "recommend", folder, "--max", "asr=0.9", "--json");

        var svg = XElement.Parse(File.ReadAllText(Path.Combine(folder, "recommend-topk.svg")));
        Assert.DoesNotContain(svg.DescendantsAndSelf(), e => e.Name.LocalName is "script" or "img" or "a");
        Assert.DoesNotContain("<img", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", result.Stdout, StringComparison.Ordinal);
        using var parsed = JsonDocument.Parse(result.Stdout);
    }

    [Theory]
    [MemberData(nameof(HostileText.Each), MemberType = typeof(HostileText))]
    public void The_suggested_sweep_matrix_keeps_a_hostile_value_inside_its_own_yaml_scalar(string payload)
    {
        string folder = _temp["sweep"];
        Directory.CreateDirectory(folder);
        string attack = payload + "]\nseeds: 999\n# ";
        var rows = new[] { (Keep: 0.5, Asr: 0.9), (Keep: 0.1, Asr: 0.2) }.SelectMany(s => new[] { 0, 1, 2 }.Select(seed =>
            SampleRows.Ok(attack, "", $"topk(keep={s.Keep},scope=layer,ef=off)", s.Asr, seed: seed) with
            {
                CellId = $"k{s.Keep}",
                Dataset = payload,
                UtilityDrop = 0.001,
                WireBytes = 100 * s.Keep,
            }));
        CellsCsv.Write(Path.Combine(folder, CellsCsv.FileName), rows);

        var result = InProcess.Run("recommend", folder, "--max", "asr=0.5", "--json");

        Assert.True(result.ExitCode is 0 or 1, result.Output);
        string snippet = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("snippet").GetString()!;
        var yaml = new YamlDotNet.RepresentationModel.YamlStream();
        yaml.Load(new StringReader(snippet));
        var root = (YamlDotNet.RepresentationModel.YamlMappingNode)yaml.Documents[0].RootNode;
        Assert.Equal(["name", "seeds", "dataset", "model", "batch_size", "labels", "clients", "protocol", "attacks", "blocks"],
            root.Children.Keys.Select(k => k.ToString()));
        Assert.Equal("3", root.Children["seeds"].ToString());
        Assert.Equal(payload.Replace("\0", "\0", StringComparison.Ordinal), root.Children["dataset"].ToString());
        Assert.Equal(attack, ((YamlDotNet.RepresentationModel.YamlSequenceNode)root.Children["attacks"]).Children.Single().ToString());
    }
}
