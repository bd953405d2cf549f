using System.CommandLine;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Running;
using DefenseBench.Harness.Sharding;

namespace DefenseBench.Harness.Cli;

internal static class RunCommand
{
    public static Command Create(TextWriter output, TextWriter error, string[] arguments)
    {
        var matrix = new Argument<string>("matrix") { Description = "the matrix file, e.g. matrices/quick.yaml" };
        var outDir = new Option<string?>("--out") { Description = "results folder (default: results/<matrix name>)" };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | cuda:N (auto picks CUDA when TorchSharp sees it)", DefaultValueFactory = _ => "auto" };
        var seeds = new Option<int?>("--seeds") { Description = "run seeds 0..N-1 instead of the matrix's seeds" };
        var resume = new Option<bool>("--resume") { Description = "continue an interrupted run: skip the cell runs already in cells.csv" };
        var shard = new Option<string?>("--shard")
        {
            Description = "run shard i of n (i = 0..n-1): a cost-balanced share of the cells; join the shard folders with `merge`",
        };
        var export = new Option<string?>("--export-updates")
        {
            Description = "write the last layer each label attack read (per cell, seed and client) as safetensors files to this folder, for `attack --update`",
        };
        var yes = new Option<bool>("--yes")
        {
            Description = $"run a matrix (or shard) of more than {Runner.ConfirmAbove:N0} cell runs (cells x seeds); above {Runner.MaxCellRuns:N0}, split it with --shard",
        };
        var batchSeeds = new Option<bool?>("--batch-seeds")
        {
            Description = "solve all seeds of a reconstruction cell together (true) or each alone (false); default: together on CUDA, alone on a CPU (same rows within tolerance, see README)",
        };
        var command = new Command("run", "Run a matrix: writes cells.csv, manifest.json and plots/ (PNG and SVG) to the results folder.")
        {
            matrix, outDir, device, seeds, resume, shard, export, yes, batchSeeds,
        };
        // Checks the token, not the parsed value: a value that is not a number is the parser's own error.
        seeds.Validators.Add(r =>
        {
            if (r.Tokens.Count == 1 && int.TryParse(r.Tokens[0].Value, out int n) && MatrixLoader.SeedCountProblem(n) is { } problem) r.AddError(problem);
        });
        command.SetAction(parse => new Runner(output, error).Run(
            new RunOptions(parse.GetValue(matrix)!, parse.GetValue(outDir) is { } o ? PathArguments.OutputFolder(o, "--out") : null, parse.GetValue(device)!,
                parse.GetValue(seeds), parse.GetValue(resume), parse.GetValue(shard) is { } text ? ShardSpec.Parse(text) : null,
                parse.GetValue(export) is { } e ? PathArguments.OutputFolder(e, "--export-updates") : null, parse.GetValue(yes),
                Batch: parse.GetValue(batchSeeds)),
            arguments));
        return command;
    }
}
