using System.CommandLine;
using DefenseBench.Harness.Bench;
using DefenseBench.Harness.Running;

namespace DefenseBench.Harness.Cli;

internal static class BenchCommand
{
    public static Command Create(TextWriter output)
    {
        var classes = new Option<int>("--classes") { Description = "number of classes C (synthetic datasets)", DefaultValueFactory = _ => 100 };
        var batches = new Option<int[]>("--batch") { Description = "batch sizes B", DefaultValueFactory = _ => [256, 1024], AllowMultipleArgumentsPerToken = true };
        var model = new Option<string>("--model") { Description = "model id", DefaultValueFactory = _ => "lenet5" };
        var dataset = new Option<string>("--dataset") { Description = "dataset spec", DefaultValueFactory = _ => "synthetic-cifar100" };
        var aux = new Option<int>("--aux-per-class") { Description = "auxiliary images per class", DefaultValueFactory = _ => 64 };
        var runs = new Option<int>("--runs") { Description = "timed runs of the batched estimator (median reported)", DefaultValueFactory = _ => 5 };
        var reference = new Option<bool>("--reference") { Description = "also time the reference estimator (C x 10 autograd passes; minutes at B = 1024)" };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | cuda:N", DefaultValueFactory = _ => "auto" };
        var llgPlus = new Command("llg-plus", "Time LLG+'s batched impact estimation against the reference and check they recover the same counts.")
        {
            classes, batches, model, dataset, aux, runs, reference, device,
        };
        llgPlus.SetAction(parse =>
        {
            var rows = LlgPlusBench.Run(parse.GetValue(dataset)!, parse.GetValue(model)!, parse.GetValue(classes), parse.GetValue(batches)!,
                parse.GetValue(aux), Math.Max(1, parse.GetValue(runs)), parse.GetValue(reference), DeviceChoice.Resolve(parse.GetValue(device)!));
            output.Write(LlgPlusBench.Table(rows));
            return 0;
        });
        return new Command("bench", "Benchmarks whose numbers the issues and the README quote.") { llgPlus, Reconstruction(output) };
    }

    private static Command Reconstruction(TextWriter output)
    {
        var attacks = new Option<string[]>("--attack") { Description = "gradient-matching attacks", DefaultValueFactory = _ => ["dlg", "dlm"], AllowMultipleArgumentsPerToken = true };
        var batches = new Option<int[]>("--batch") { Description = "batch sizes B", DefaultValueFactory = _ => [1, 8], AllowMultipleArgumentsPerToken = true };
        var model = new Option<string>("--model") { Description = "model id", DefaultValueFactory = _ => "dlg-lenet" };
        var dataset = new Option<string>("--dataset") { Description = "dataset spec", DefaultValueFactory = _ => "mnist-sample" };
        var steps = new Option<int>("--steps") { Description = "optimiser steps per run (an L-BFGS step evaluates up to 25 times)", DefaultValueFactory = _ => 20 };
        var runs = new Option<int>("--runs") { Description = "timed runs, each on another victim, after one warm-up (median reported)", DefaultValueFactory = _ => 3 };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | cuda:N", DefaultValueFactory = _ => "auto" };
        var command = new Command("reconstruction",
            "Iterations per second of the gradient-matching attacks (DLG, iDLG, DLM, DLM+) and the share of time in autograd.")
        {
            attacks, batches, model, dataset, steps, runs, device,
        };
        command.SetAction(parse =>
        {
            var rows = ReconstructionBench.Run(parse.GetValue(dataset)!, parse.GetValue(model)!, parse.GetValue(attacks)!, parse.GetValue(batches)!,
                Math.Max(1, parse.GetValue(steps)), Math.Max(1, parse.GetValue(runs)), DeviceChoice.Resolve(parse.GetValue(device)!));
            output.Write(ReconstructionBench.Table(rows));
            return 0;
        });
        return command;
    }
}
