using System.Text.Json;
using System.Text.RegularExpressions;
using DefenseBench.Harness.Publishing;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;
using Newtonsoft.Json.Linq;
using Snapshooter.Xunit;

namespace DefenseBench.Harness.Tests.Publishing;

public sealed partial class LeaderboardTests : IDisposable
{
    private readonly TempFolder _temp = new();

    /// <summary>A committed results folder: six settings, two attacks, three seeds, two settings over the default budget.</summary>
    public static string SmallRun => Repository.File("tests", "DefenseBench.Harness.Tests", "Publishing", "small-run");

    [GeneratedRegex("<tr class=\"(ranked|unranked)\"><td class=\"num\"[^>]*>([^<]*)</td><td class=\"text\"[^>]*><details><summary[^>]*>([^<]*)</summary>")]
    private static partial Regex RowPattern();

    private string Publish(params string[] extra)
    {
        string output = _temp["board"];
        InProcess.Expect(0, ["leaderboard", SmallRun, "--out", output, .. extra]);
        return output;
    }

    private static LeaderboardDocument Load(string folder) => LeaderboardDocument.Load(Path.Combine(folder, LeaderboardDocument.FileName));

    [Fact]
    public void The_json_of_the_small_run_matches_its_snapshot()
    {
        var json = JObject.Parse(File.ReadAllText(Path.Combine(Publish(), LeaderboardDocument.FileName)));
        // Who published it and when change with every build; everything else is a function of the results folder.
        ((JObject)json["provenance"]!).Remove("published");
        ((JObject)json["provenance"]!).Remove("published_by");

        Snapshot.Match(json);
    }

    [Fact]
    public async Task A_real_browser_reads_the_same_ranks_from_the_html_page_as_the_json_holds()
    {
        string folder = Publish();
        var doc = Load(folder);
        string dom = await Chromium.DumpDom(Path.Combine(folder, "leaderboard.html"));

        var rendered = RowPattern().Matches(dom).Select(m => (Rank: System.Net.WebUtility.HtmlDecode(m.Groups[2].Value), Setting: System.Net.WebUtility.HtmlDecode(m.Groups[3].Value))).ToList();
        var expected = doc.Boards.Single().Ranked.Select(e => ((e.SharedRank ? "=" : "") + e.Rank, e.Defense))
            .Concat(doc.Boards.Single().Unranked.Select(e => ("–", e.Defense))).ToList();
        Assert.True(rendered.Count > 0, "no table rows in the DOM chromium rendered");
        Assert.Equal(expected, rendered);
        Assert.Contains("<svg", dom, StringComparison.Ordinal);
    }

    [Fact]
    public void A_setting_that_misses_the_budget_is_never_ranked_even_when_it_leaks_least()
    {
        // noise(scale=0.1) leaks least of all but costs 12 points of accuracy; topk(keep=0.01) costs 2.5.
        var rows = CellsCsv.Read(Path.Combine(SmallRun, CellsCsv.FileName));
        var board = Leaderboard.Build(rows, Budget.Default).Single();

        Assert.All(board.Ranked, e => Assert.True(e.UtilityDrop <= 0.01, $"{e.Defense} is ranked with drop {e.UtilityDrop}"));
        Assert.All(board.Unranked, e => Assert.Null(e.Rank));
        Assert.Equal(["noise(scale=0.1)", "topk(keep=0.01,scope=layer,ef=on)"], board.Unranked.Select(e => e.Defense).Order(StringComparer.Ordinal));
        Assert.True(board.Unranked.Min(e => e.Worst.Leakage.Mean) < board.Ranked.Min(e => e.Worst.Leakage.Mean));
    }

    [Fact]
    public void The_worst_case_is_over_adaptive_and_published_attacks_and_the_board_says_which_set_it()
    {
        // Under dpsgd the adaptive LLG+ leaks more than the published one; under none they leak the same and plain LLG
        // (no adaptive parameter) leaks most.
        var rows = new List<CellRow>();
        foreach (int seed in new[] { 0, 1, 2 })
        {
            rows.Add(SampleRows.Ok("llg-plus", "adaptive=on", "dpsgd(clip=1,z=0)", 0.9, seed: seed) with { CellId = "a" });
            rows.Add(SampleRows.Ok("llg-plus", "adaptive=off", "dpsgd(clip=1,z=0)", 0.5, seed: seed) with { CellId = "b" });
            rows.Add(SampleRows.Ok("llg", "", "dpsgd(clip=1,z=0)", 0.4, seed: seed) with { CellId = "c" });
            rows.Add(SampleRows.Ok("llg-plus", "adaptive=on", "none", 0.8, seed: seed) with { CellId = "d" });
            rows.Add(SampleRows.Ok("llg-plus", "adaptive=off", "none", 0.8, seed: seed) with { CellId = "e" });
            rows.Add(SampleRows.Ok("llg", "", "none", 1, seed: seed) with { CellId = "f" });
        }
        string folder = _temp["adaptive"];
        Directory.CreateDirectory(folder);
        CellsCsv.Write(Path.Combine(folder, CellsCsv.FileName), rows);

        var result = InProcess.Expect(0, "leaderboard", folder, "--budget", "none");
        var board = Load(folder).Boards.Single();

        var dpsgd = board.Ranked.Single(e => e.Defense.StartsWith("dpsgd", StringComparison.Ordinal));
        Assert.Equal(("llg-plus(adaptive=on)", true), (dpsgd.Worst.Attack, dpsgd.Worst.Adaptive));
        var none = board.Ranked.Single(e => e.Defense == "none");
        Assert.Equal(("llg", (bool?)null), (none.Worst.Attack, none.Worst.Adaptive));
        Assert.Contains(none.Attacks, a => a.Adaptive == false);
        Assert.Contains("(llg-plus(adaptive=on), adaptive)", result.Stdout, StringComparison.Ordinal);
        // The page names the worst case by its short name, "adaptive" marked; the legend under the table gives the full name.
        string html = File.ReadAllText(Path.Combine(folder, "leaderboard.html"));
        Assert.Contains("<span class=\"by\">LLG+ adaptive</span>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>LLG+ adaptive</dt><dd>llg-plus(adaptive=on)</dd>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Loosening_the_budget_ranks_a_setting_that_missed_it()
    {
        var rows = CellsCsv.Read(Path.Combine(SmallRun, CellsCsv.FileName));
        var board = Leaderboard.Build(rows, Budget.Parse("utility_drop<=0.05")).Single();

        Assert.Equal("topk(keep=0.01,scope=layer,ef=on)", board.Ranked[0].Defense);
        Assert.Equal(1, board.Ranked[0].Rank);
        Assert.Equal("noise(scale=0.1)", Assert.Single(board.Unranked).Defense);
    }

    [Fact]
    public void Settings_whose_worst_case_intervals_overlap_share_a_rank_and_the_next_rank_skips()
    {
        var board = Load(Publish()).Boards.Single();

        // topk(keep=0.1) [0.556, 0.755] overlaps dpsgd [0.396, 0.952]; topk(keep=0.5) [0.806, 1.08] overlaps none [1, 1].
        Assert.Equal([(1, true), (1, true), (3, true), (3, true)], board.Ranked.Select(e => (e.Rank!.Value, e.SharedRank)));
        Assert.Contains("share", LeaderboardPages.TieNote, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_number_carries_the_cell_ids_behind_it()
    {
        var board = Load(Publish()).Boards.Single();
        var ids = CellsCsv.Read(Path.Combine(SmallRun, CellsCsv.FileName)).GroupBy(r => r.Defense).ToDictionary(g => g.Key, g => g.Select(r => r.CellId).Distinct().Order(StringComparer.Ordinal).ToList());

        foreach (var e in board.Ranked.Concat(board.Unranked))
        {
            Assert.Equal(ids[e.Defense], e.CellIds);
            Assert.All(e.Attacks, a => Assert.Single(a.CellIds));
        }
    }

    [Fact]
    public void The_diff_against_a_hand_made_previous_release_names_rank_moves_additions_removals_and_moved_numbers()
    {
        var now = Load(Publish());
        var board = now.Boards.Single();
        // The previous release: dpsgd alone at rank 1 with a worst case 0.2 lower, no noise setting, and a clipnoise setting since dropped.
        var dpsgd = board.Ranked.Single(e => e.Defense.StartsWith("dpsgd", StringComparison.Ordinal));
        var clipnoise = dpsgd with { Defense = "clipnoise(clip=5,sigma=0.1)" };
        var previous = now with
        {
            Boards =
            [
                board with
                {
                    Ranked = [dpsgd with { Rank = 1, SharedRank = false, Worst = dpsgd.Worst with { Leakage = dpsgd.Worst.Leakage with { Mean = dpsgd.Worst.Leakage.Mean - 0.2 } } },
                              .. board.Ranked.Where(e => e != dpsgd).Select(e => e with { Rank = 2 }), clipnoise with { Rank = 6 }],
                    Unranked = board.Unranked.Where(e => !e.Defense.StartsWith("noise", StringComparison.Ordinal)).ToList(),
                },
            ],
        };
        string old = _temp.Write("previous/leaderboard.json", JsonSerializer.Serialize(previous, LeaderboardDocument.Json));

        string folder = Publish("--previous", old);
        var diff = Load(folder).Diff!;

        Assert.Contains(diff.RankMoves, m => m.Defense == "topk(keep=0.1,scope=layer,ef=on)" && m.Was == 2 && m.Is == 1);
        Assert.DoesNotContain(diff.RankMoves, m => m.Defense == dpsgd.Defense);
        Assert.Equal(["noise(scale=0.1) (" + board.Scenario + ")"], diff.Added);
        Assert.Equal(["clipnoise(clip=5,sigma=0.1) (" + board.Scenario + ")"], diff.Removed);
        var moved = Assert.Single(diff.Moved);
        Assert.Equal((dpsgd.Defense, "worst-case leakage"), (moved.Defense, moved.What));
        Assert.Contains("rank 2 → 1: topk(keep=0.1", File.ReadAllText(Path.Combine(folder, "leaderboard.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void Cells_csv_alone_is_enough_and_provenance_then_says_what_it_does_not_know()
    {
        string folder = _temp["bare"];
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(SmallRun, CellsCsv.FileName), Path.Combine(folder, CellsCsv.FileName));

        InProcess.Expect(0, "leaderboard", folder);
        var doc = Load(folder);

        Assert.Null(doc.Provenance.Matrix);
        Assert.Equal("cpu", doc.Provenance.Device);
        Assert.Equal(Load(Publish()).Boards.Single().Ranked.Select(e => e.Defense), doc.Boards.Single().Ranked.Select(e => e.Defense));
        Assert.Contains("matrix: unknown", File.ReadAllText(Path.Combine(folder, "leaderboard.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_cells_csv_or_a_bad_budget_exits_2()
    {
        Assert.Contains("does not exist", InProcess.Expect(2, "leaderboard", _temp.Path).Stderr, StringComparison.Ordinal);
        Assert.Contains("write --budget", InProcess.Expect(2, "leaderboard", SmallRun, "--budget", "asr<=0.5", "--out", _temp.Path).Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
