using System.Text.RegularExpressions;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Publishing;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Running;
using DefenseBench.Harness.Tests.Support;
using TorchSharp;

namespace DefenseBench.Harness.Tests.Publishing;

/// <summary>leaderboard.html as a reader gets it: its width in a laptop's browser, its one script, its escaping.</summary>
public sealed partial class BoardPageTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [GeneratedRegex("<meta http-equiv=\"Content-Security-Policy\"[^>]*>")]
    private static partial Regex CspMeta();

    [GeneratedRegex("data-width=\"(\\d+)/(\\d+)\" data-open=\"(\\d+)\" data-rows=\"(\\d+)/(\\d+)\"")]
    private static partial Regex MeasuredWidth();

    [GeneratedRegex("<script>(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex InlineScript();

    [GeneratedRegex("<tr class=\"(?:ranked|unranked)\"><td[^>]*>[^<]*</td><td class=\"text\" data-v=\"([^\"]*)\"")]
    private static partial Regex RowSetting();

    /// <summary>
    /// Rows for every cell of matrices/tradeoff.yaml (its real attack and defence canonical names, as `run` writes
    /// them) with made-up numbers over three seeds: leakage falling with the setting's place in the matrix, utility
    /// drop rising so the later settings miss the default budget, ε for the DP settings. The matrix is parsed with the
    /// synthetic digits in place of the MNIST sample (the parser checks that the sample is on disk; the tests do not
    /// fetch it) and the rows then name the sample again.
    /// </summary>
    public static List<CellRow> TradeoffRows()
    {
        const string sample = "dataset: mnist-sample\n";
        string text = File.ReadAllText(Repository.File("matrices", "tradeoff.yaml")).ReplaceLineEndings("\n");
        Assert.Contains(sample, text, StringComparison.Ordinal);
        var matrix = MatrixLoader.Parse(text.Replace(sample, "dataset: synthetic-mnist\n", StringComparison.Ordinal), Repository.File("matrices", "tradeoff.yaml"));
        var settings = matrix.Cells.Select(c => c.Defense.Canonical).Distinct().ToList();
        var rows = new List<CellRow>();
        foreach (var cell in matrix.Cells)
        {
            int d = settings.IndexOf(cell.Defense.Canonical);
            bool dp = cell.Defense.Canonical.Contains("dp", StringComparison.Ordinal);
            foreach (int seed in new[] { 0, 1, 2 })
            {
                // The adaptive LLG+ sets the worst case under the DP settings, plain LLG under the others: both names appear there.
                double leakage = Math.Clamp(1 - (double)d / settings.Count + 0.07 * (seed - 1) + (cell.Attack.Id == "llg" == dp ? -0.1 : 0), 0, 1);
                rows.Add(CellExecutor.Describe(cell, seed, torch.CPU) with
                {
                    Dataset = "mnist-sample",
                    Status = CellRow.Ok,
                    Asr = 0.1 + 0.9 * leakage,
                    AsrRandom = 0.1,
                    UtilityAcc = 0.93 - 0.0011 * d,
                    UtilityDrop = 0.0011 * d,
                    UpdateCosine = 1 - 0.03 * d,
                    WireBytes = 247_384 - 9_000 * d,
                    Epsilon = dp ? 123.456 / (d + 1) : null,
                    Delta = dp ? 1e-5 : null,
                });
            }
        }
        return rows;
    }

    /// <summary>The board page of <paramref name="rows"/> under the default budget, as `leaderboard` writes it.</summary>
    private string Page(IReadOnlyList<CellRow> rows, string name)
    {
        string folder = _temp[name];
        Directory.CreateDirectory(folder);
        CellsCsv.Write(Path.Combine(folder, CellsCsv.FileName), rows);
        InProcess.Expect(0, "leaderboard", folder);
        return Path.Combine(folder, LeaderboardExporter.HtmlName);
    }

    /// <summary>
    /// The page's width in chromium at <paramref name="window"/> × 900 (scrollWidth / window width), with every provenance block shut and
    /// again with every one open, and the heights of the lowest and tallest table rows (shut): a copy of the page with
    /// its Content-Security-Policy removed and a measuring script appended, read back from the DOM.
    /// </summary>
    private async Task<(int Shut, int Open, int Window, int LowestRow, int TallestRow)> Widths(string page, int window = 1280)
    {
        const string measure = "<script>const w=()=>document.documentElement.scrollWidth;const shut=w();" +
                               "const h=[...document.querySelectorAll('table.board>tbody>tr')].map(r=>Math.round(r.getBoundingClientRect().height));" +
                               "document.querySelectorAll('details').forEach(d=>d.open=true);" +
                               "document.body.setAttribute('data-width',shut+'/'+window.innerWidth);document.body.setAttribute('data-open',w());" +
                               "document.body.setAttribute('data-rows',Math.min(...h)+'/'+Math.max(...h));</script>";
        string dom = await Chromium.DumpDom(Instrumented(page, measure), window);
        var m = MeasuredWidth().Match(dom);
        Assert.True(m.Success, "the measuring script left no width in the DOM");
        return (Number(m.Groups[1].Value), Number(m.Groups[3].Value), Number(m.Groups[2].Value), Number(m.Groups[4].Value), Number(m.Groups[5].Value));
    }

    /// <summary>A copy of the page without its Content-Security-Policy and with <paramref name="script"/> run after its own.</summary>
    private string Instrumented(string page, string script) =>
        _temp.Write("instrumented.html", CspMeta().Replace(File.ReadAllText(page), "").Replace("</body>", script + "</body>", StringComparison.Ordinal));

    private static int Number(string digits) => int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_tradeoff_board_fits_a_1280_pixel_window_without_horizontal_scroll_in_one_line_rows()
    {
        var (shut, open, window, lowest, tallest) = await Widths(Page(TradeoffRows(), "tradeoff"));

        Assert.Equal(1280, window);
        Assert.True(tallest < 1.5 * lowest, $"rows should be one line each: heights {lowest} to {tallest} px");
        Assert.True(shut <= 1280, $"the page is {shut} px wide in a 1280 px window");
        Assert.True(open <= 1280, $"with every provenance block open the page is {open} px wide in a 1280 px window");
    }

    [Fact]
    public void The_page_runs_one_inline_script_that_its_policy_allows_by_hash_and_fetches_nothing()
    {
        string html = File.ReadAllText(Page(TradeoffRows(), "tradeoff"));

        var script = Assert.Single(InlineScript().Matches(html));
        Assert.Single(Regex.Matches(html, "<script", RegexOptions.IgnoreCase));
        string hash = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(script.Groups[1].Value)));
        string csp = CspMeta().Match(html).Value;
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains($"script-src 'sha256-{hash}'", csp, StringComparison.Ordinal);
        Assert.True(html.IndexOf(csp, StringComparison.Ordinal) < html.IndexOf("<style", StringComparison.Ordinal), "the policy must come before anything it governs");
        foreach (string fetch in new[] { "src=", "<link", "@import", "url(", "href=" })
            Assert.DoesNotContain(fetch, html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Chromium_runs_the_script_the_policy_names_and_refuses_it_once_changed()
    {
        string page = Page(SmallRun(), "small");
        string tampered = _temp.Write("tampered.html", File.ReadAllText(page).Replace("t.classList.add(\"sortable\")", "t.classList.add(\"sortable\") ", StringComparison.Ordinal));

        Assert.Contains("class=\"board sortable\"", await Chromium.DumpDom(page), StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"board sortable\"", await Chromium.DumpDom(tampered), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clicking_a_header_sorts_by_its_numbers_and_clicking_again_reverses()
    {
        var rows = SmallRun();
        string page = Page(rows, "small");
        var board = Leaderboard.Build(rows, Budget.Default).Single();
        var entries = board.Ranked.Concat(board.Unranked).ToList();
        const string click = "<script>[...document.querySelectorAll('th')].find(x=>x.textContent==='utility drop').click();</script>";

        string once = await Chromium.DumpDom(Instrumented(page, click));
        string twice = await Chromium.DumpDom(Instrumented(page, click.Replace("</script>", "document.querySelector('th[aria-sort]').click();</script>", StringComparison.Ordinal)));

        var ascending = entries.OrderBy(e => e.UtilityDrop).Select(e => e.Defense).ToList();
        Assert.Equal(ascending, RowSetting().Matches(once).Select(m => System.Net.WebUtility.HtmlDecode(m.Groups[1].Value)));
        Assert.Equal(Enumerable.Reverse(ascending), RowSetting().Matches(twice).Select(m => System.Net.WebUtility.HtmlDecode(m.Groups[1].Value)));
        Assert.Contains("aria-sort=\"descending\"", twice, StringComparison.Ordinal);
    }

    [Fact]
    public void Defence_and_scenario_names_from_the_folder_reach_the_page_only_escaped()
    {
        const string defence = "dpsgd(clip=1,z=1)\"><script>alert(1)</script>";
        const string dataset = "x\" onmouseover=\"alert(2)";
        var rows = SmallRun().Select(r => r with { Dataset = dataset, Defense = r.Defense == "none" ? defence : r.Defense }).ToList();

        string html = File.ReadAllText(Page(rows, "hostile"));

        Assert.Single(Regex.Matches(html, "<script", RegexOptions.IgnoreCase));
        Assert.DoesNotContain("\"><script", html, StringComparison.Ordinal);
        Assert.DoesNotContain("\" onmouseover=\"", html, StringComparison.Ordinal);
        Assert.Contains($"<summary title=\"{Escape.Html(defence)}\">{Escape.Html(defence)}</summary>", html, StringComparison.Ordinal);
        Assert.Contains($"data-v=\"{Escape.Html(defence)}\"", html, StringComparison.Ordinal);
        Assert.Contains(Escape.Html(dataset), html, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_setting_opens_onto_its_cells_its_full_name_and_each_attack_s_numbers()
    {
        var rows = SmallRun();
        string html = File.ReadAllText(Page(rows, "small"));
        var board = Leaderboard.Build(rows, Budget.Default).Single();

        foreach (var e in board.Ranked.Concat(board.Unranked))
        {
            string details = Regex.Match(html, $"<details><summary title=\"{Regex.Escape(Escape.Html(e.Defense))}\">.*?</details>", RegexOptions.Singleline).Value;
            Assert.Contains($"<code>{Escape.Html(e.Defense)}</code>", details, StringComparison.Ordinal);
            Assert.All(e.CellIds, id => Assert.Contains(id, details, StringComparison.Ordinal));
            Assert.All(e.Attacks, a => Assert.Contains($"<code>{Escape.Html(a.Described)}</code>", details, StringComparison.Ordinal));
            Assert.All(e.Attacks, a => Assert.Contains(Leaderboard.Show(a.Leakage), details, StringComparison.Ordinal));
            Assert.Contains(Leaderboard.Show(e.UtilityDrop, "0.0000"), details, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_markdown_heads_its_columns_with_short_names_and_lists_the_full_ones_under_the_table()
    {
        string folder = _temp["md"];
        Directory.CreateDirectory(folder);
        CellsCsv.Write(Path.Combine(folder, CellsCsv.FileName), TradeoffRows());
        InProcess.Expect(0, "leaderboard", folder);
        var lines = File.ReadAllLines(Path.Combine(folder, LeaderboardExporter.MarkdownName));
        string plus = Assert.Single(LeaderboardDocument.Load(Path.Combine(folder, LeaderboardDocument.FileName)).Boards).Attacks.Single(a => a.StartsWith("llg-plus(", StringComparison.Ordinal));

        string header = Assert.Single(lines, l => l.StartsWith("| rank |", StringComparison.Ordinal));
        Assert.Contains("| LLG | LLG+ adaptive | worst case |", header, StringComparison.Ordinal);
        Assert.Contains($"- LLG+ adaptive: {Escape.Markdown(plus)}", lines);
        Assert.Contains("- LLG: llg", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith('|') && l.Contains("llg-plus(", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_board_prints_on_a4_landscape_pages_and_its_print_rules_fit_their_width()
    {
        string page = Page(TradeoffRows(), "tradeoff");
        byte[] pdf = await Chromium.PrintToPdf(page);
        // The print rules applied on screen in a window as wide as A4 landscape less its 10 mm margins (277 mm = 1047 px).
        string printed = _temp.Write("print.html", File.ReadAllText(page).Replace("@media print{", "@media screen{", StringComparison.Ordinal));
        var (width, _, window, _, _) = await Widths(printed, 1047);
        Assert.Equal(1047, window);
        Assert.True(width <= 1047, $"with the print rules the page is {width} px wide, more than A4 landscape's 1047");

        // PDF page boxes are in points: A4 is 595.28 × 841.89, so landscape is about 842 wide and 595 high.
        var boxes = Regex.Matches(System.Text.Encoding.Latin1.GetString(pdf), @"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]")
            .Select(m => (Width: double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Height: double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.NotEmpty(boxes);
        Assert.All(boxes, b => Assert.True(Math.Abs(b.Width - 841.89) < 1 && Math.Abs(b.Height - 595.28) < 1, $"a {b.Width} × {b.Height} pt page"));
    }

    private static List<CellRow> SmallRun() => CellsCsv.Read(Path.Combine(LeaderboardTests.SmallRun, CellsCsv.FileName)).ToList();
}
