using System.CommandLine;
using DefenseBench.Core.Components;
using DefenseBench.Harness.Publishing;
using DefenseBench.Harness.Reproduce;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Cli;

internal static class LeaderboardCommand
{
    public static Command Create(TextWriter output)
    {
        var dirs = new Argument<string[]>("results")
        {
            Description = "a results folder with cells.csv (manifest.json, when there, adds provenance), or several folders of one suite, one per submission",
            Arity = ArgumentArity.OneOrMore,
        };
        var outDir = new Option<string?>("--out") { Description = "where to write leaderboard.md, .html and .json (default: the results folder; required with several)" };
        var budget = new Option<string>("--budget")
        {
            Description = "the utility budget a ranked setting must meet, METRIC<=VALUE or METRIC>=VALUE, or none",
            DefaultValueFactory = _ => Budget.Default.ToString().Replace(" ", "", StringComparison.Ordinal),
        };
        var previous = new Option<string?>("--previous") { Description = "an earlier leaderboard.json to diff against (rank moves, added and removed settings, numbers beyond tolerance)" };
        var command = new Command("leaderboard",
            "Publish a leaderboard from a finished run: defence settings ranked by worst-case leakage over attacks among those within the utility budget, " +
            "with 95 % intervals, ε, utility drop, bytes on the wire and provenance, as Markdown, a self-contained HTML page and JSON. " +
            "Several folders of one suite (same matrix but for its defences, same harness version) make one board of their submissions; " +
            "exit 1 when a row two folders share differs beyond tolerance, 2 when they are not of one suite.")
        {
            dirs, outDir, budget, previous,
        };
        command.SetAction(parse =>
        {
            string[] folders = parse.GetValue(dirs)!;
            if (folders.Length > 1 && parse.GetValue(outDir) == null)
                throw new InputException($"leaderboard was given {folders.Length} results folders and no --out", "give --out DIR for the board: it belongs to none of the submissions' folders");
            string folder = folders[0];
            string target = PathArguments.OutputFolder(parse.GetValue(outDir) ?? folder, "--out");
            if (parse.GetValue(previous) is { } before)
                PathArguments.InputFile(before, "--previous", "give --previous the leaderboard.json of an earlier release");
            var set = folders.Length > 1 ? SubmissionSet.Join(folders) : null;
            var (rows, manifest) = set == null ? Read(folder) : (set.Rows, set.Manifests[0]);
            var limit = Budget.Parse(parse.GetValue(budget)!);
            (string, LeaderboardDocument)? earlier = parse.GetValue(previous) is { } old ? (Path.GetFileName(old), LeaderboardDocument.Load(old)) : null;
            if (set?.Disagreements is { Count: > 0 } disagreements)
            {
                output.WriteLine($"the folders measure {disagreements.Count} shared row value{(disagreements.Count == 1 ? "" : "s")} differently beyond tolerance, so they are not merged (nothing written):");
                foreach (var d in disagreements) output.WriteLine($"  differs: {Escape.Terminal(d.Describe())}");
                return 1;
            }
            var exporter = new LeaderboardExporter(limit, manifest, earlier) { Reproduced = set == null ? ReproduceReport.Line(folder) : null, Submissions = set };
            using var folderLock = ResultsLock.Acquire(target, "defensebench leaderboard");
            exporter.Export(rows, new RunFolder(target));
            var doc = exporter.Document!;
            if (doc.Submissions != null)
            {
                output.WriteLine($"{doc.Submissions.Count} submissions of suite {doc.Provenance.SuiteSha256} (harness {Escape.Terminal(doc.Provenance.HarnessVersion ?? "")}):");
                foreach (var s in doc.Submissions) output.WriteLine($"  {Escape.Terminal(s.Describe())}");
            }
            foreach (var board in doc.Boards)
            {
                output.WriteLine($"{Escape.Terminal(board.Scenario)}: {board.Ranked.Count} ranked, {board.Unranked.Count} outside the budget ({doc.Budget})");
                foreach (var e in board.Ranked.Take(5))
                    output.WriteLine($"  {(e.SharedRank ? "=" : " ")}{e.Rank,-3} {Escape.Terminal(e.Defense)}  worst {Leaderboard.Show(e.Worst.Leakage)} ({Escape.Terminal(e.Worst.Described)})" +
                                     (e.Submissions == null ? "" : $"  by {Escape.Terminal(string.Join(", ", e.Submissions))}"));
            }
            if (doc.Diff != null) output.Write(LeaderboardPages.DiffText(doc.Diff, Escape.Terminal));
            output.WriteLine($"wrote leaderboard.md, leaderboard.html and leaderboard.json in {target}");
            return 0;
        });
        return command;
    }

    private static (IReadOnlyList<CellRow> Rows, Manifest? Manifest) Read(string folder)
    {
        var results = ResultsFolder.Read(folder);
        return (results.Rows, results.Manifest);
    }
}
