using System.CommandLine;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Sharding;

namespace DefenseBench.Harness.Cli;

internal static class MergeCommand
{
    public static Command Create(TextWriter output, string[] arguments)
    {
        var folders = new Argument<string[]>("folders")
        {
            Description = "shard folders written by `run --shard i/n`, or folders that hold them",
            Arity = ArgumentArity.OneOrMore,
        };
        var outDir = new Option<string>("--out") { Description = "the merged results folder", Required = true };
        var matrix = new Option<string?>("--matrix") { Description = "the matrix file the shards ran (default: the path their manifests record)" };
        var command = new Command("merge",
            "Join the folders of a sharded run into one results folder (cells.csv in canonical order, manifest.json, plots/, images/). " +
            "Exit 0, 1 when some cell runs failed, 2 when the folders do not make one complete run.")
        {
            folders, outDir, matrix,
        };
        command.SetAction(parse =>
        {
            string target = PathArguments.OutputFolder(parse.GetValue(outDir)!, "--out");
            var run = new RunFolder(target);
            var merged = ShardMerge.Merge(parse.GetValue(folders)!, target, parse.GetValue(matrix), arguments);
            var shards = merged.Manifest.MergedFrom!;
            output.WriteLine($"merged {shards.Count} shard folder{(shards.Count == 1 ? "" : "s")} of {merged.Manifest.Matrix} into {target}: " +
                             $"{merged.Rows.Count} rows ({merged.Manifest.FailedRows} failed) in {run.Cells}, " +
                             $"{merged.Plots.Count} plots in {run.Plots}");
            if (merged.KeptPrevious) output.WriteLine($"{target} held an earlier run: {RunFolder.KeptPrevious}");
            if (merged.Images is { } index) output.WriteLine($"reconstructions: {index}");
            return merged.Manifest.FailedRows > 0 ? 1 : 0;
        });
        return command;
    }
}
