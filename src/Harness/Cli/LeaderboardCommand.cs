using System.CommandLine;
using DefenseBench.Harness.Publishing;
using DefenseBench.Harness.Reproduce;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Cli;

internal static class LeaderboardCommand
{
    public static Command Create(TextWriter output)
    {
        var dir = new Argument<string>("results") { Description = "a results folder with cells.csv (manifest.json, when there, adds provenance)" };
        var outDir = new Option<string?>("--out") { Description = "where to write leaderboard.md, .html and .json (default: the results folder)" };
        var budget = new Option<string>("--budget")
        {
            Description = "the utility budget a ranked setting must meet, METRIC<=VALUE or METRIC>=VALUE, or none",
            DefaultValueFactory = _ => Budget.Default.ToString().Replace(" ", "", StringComparison.Ordinal),
        };
        var previous = new Option<string?>("--previous") { Description = "an earlier leaderboard.json to diff against (rank moves, added and removed settings, numbers beyond tolerance)" };
        var command = new Command("leaderboard",
            "Publish a leaderboard from a finished run: defence settings ranked by worst-case leakage over attacks among those within the utility budget, " +
            "with 95 % intervals, ε, utility drop, bytes on the wire and provenance, as Markdown, a self-contained HTML page and JSON.")
        {
            dir, outDir, budget, previous,
        };
        command.SetAction(parse =>
        {
            string folder = parse.GetValue(dir)!;
            string target = PathArguments.OutputFolder(parse.GetValue(outDir) ?? folder, "--out");
            if (parse.GetValue(previous) is { } before)
                PathArguments.InputFile(before, "--previous", "give --previous the leaderboard.json of an earlier release");
            var (_, rows, manifest) = ResultsFolder.Read(folder);
            var limit = Budget.Parse(parse.GetValue(budget)!);
            (string, LeaderboardDocument)? earlier = parse.GetValue(previous) is { } old ? (Path.GetFileName(old), LeaderboardDocument.Load(old)) : null;
            var exporter = new LeaderboardExporter(limit, manifest, earlier) { Reproduced = ReproduceReport.Line(folder) };
            using var folderLock = ResultsLock.Acquire(target, "defensebench leaderboard");
            exporter.Export(rows, new RunFolder(target));
            var doc = exporter.Document!;
            foreach (var board in doc.Boards)
            {
                output.WriteLine($"{Escape.Terminal(board.Scenario)}: {board.Ranked.Count} ranked, {board.Unranked.Count} outside the budget ({doc.Budget})");
                foreach (var e in board.Ranked.Take(5))
                    output.WriteLine($"  {(e.SharedRank ? "=" : " ")}{e.Rank,-3} {Escape.Terminal(e.Defense)}  worst {Leaderboard.Show(e.Worst.Leakage)} ({Escape.Terminal(e.Worst.Described)})");
            }
            if (doc.Diff != null) output.Write(LeaderboardPages.DiffText(doc.Diff, Escape.Terminal));
            output.WriteLine($"wrote leaderboard.md, leaderboard.html and leaderboard.json in {target}");
            return 0;
        });
        return command;
    }
}
