using System.CommandLine;
using System.Text.Json;
using DefenseBench.Harness.Publishing;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Cli;

internal static class RecommendCommand
{
    public static Command Create(TextWriter output)
    {
        var dir = new Argument<string>("results") { Description = "a results folder with cells.csv" };
        var max = new Option<string[]>("--max")
        {
            Description = "an upper limit METRIC=VALUE; at least one leakage metric (asr, leacc, lnacc, irec, ssim, psnr), optionally utility_drop, wire_bytes, epsilon",
            Required = true,
        };
        var family = new Option<string?>("--family") { Description = "the defence family to choose a setting of (e.g. topk); needed when the run tests several" };
        var prefer = new Option<string>("--prefer")
        {
            Description = "among feasible settings: compression (fewest bytes on the wire), utility (smallest drop) or privacy (least leakage)",
            DefaultValueFactory = _ => "compression",
        };
        var json = new Option<bool>("--json") { Description = "print the answer as JSON" };
        var outDir = new Option<string?>("--out") { Description = "where to write the plot recommend-FAMILY.svg (default: the results folder)" };
        var command = new Command("recommend",
            "Choose a defence's parameter from a finished run: the setting whose worst-case leakage (upper end of the 95 % interval over seeds, " +
            "worst over attacks) stays under every --max while its costs stay within theirs, preferring the highest compression. " +
            "Exit 0 with a choice, 1 when no tested setting is feasible (with a matrix that sweeps further), 2 on bad input.")
        {
            dir, max, family, prefer, json, outDir,
        };
        command.SetAction(parse =>
        {
            string folder = parse.GetValue(dir)!;
            string target = PathArguments.OutputFolder(parse.GetValue(outDir) ?? folder, "--out");
            var limits = (parse.GetValue(max) ?? []).Select(Limit.Parse).ToList();
            string cells = new RunFolder(folder).Cells;
            var (_, rows, manifest) = ResultsFolder.Read(folder);
            var answer = Recommender.Recommend(rows, limits, parse.GetValue(family), parse.GetValue(prefer)!);
            var exporter = new RecommendationExporter(answer, manifest, cells);
            using var folderLock = ResultsLock.Acquire(target, "defensebench recommend");
            string plot = exporter.Export(rows, new RunFolder(target)).Single();
            string snippet = exporter.Snippet!;
            if (parse.GetValue(json))
                output.WriteLine(JsonSerializer.Serialize(new { answer, snippet, plot }, LeaderboardDocument.Json));
            else
                output.Write(Escape.Terminal(RecommendationReport.Text(answer, snippet)) + $"\nplot: {plot}\n");
            return answer.Chosen == null ? 1 : 0;
        });
        return command;
    }
}
