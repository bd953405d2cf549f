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
        return new Command("bench", "Benchmarks whose numbers the issues and the README quote.") { llgPlus, DpSgd(output) };
    }

    private static Command DpSgd(TextWriter output)
    {
        var batches = new Option<int[]>("--batch") { Description = "batch sizes B", DefaultValueFactory = _ => [64], AllowMultipleArgumentsPerToken = true };
        var model = new Option<string>("--model") { Description = "model id", DefaultValueFactory = _ => "dlg-lenet" };
        var dataset = new Option<string>("--dataset") { Description = "dataset spec", DefaultValueFactory = _ => "synthetic-mnist" };
        var runs = new Option<int>("--runs") { Description = "timed runs (median reported)", DefaultValueFactory = _ => 50 };
        var clip = new Option<double>("--clip") { Description = "clipping norm C", DefaultValueFactory = _ => 1.0 };
        var z = new Option<double>("--noise-multiplier") { Description = "noise multiplier z", DefaultValueFactory = _ => 1.0 };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | cuda:N", DefaultValueFactory = _ => "auto" };
        var command = new Command("dpsgd", "Time a DP-SGD gradient (per-example clipping and noise) against the plain batch gradient.")
        {
            batches, model, dataset, runs, clip, z, device,
        };
        command.SetAction(parse =>
        {
            var rows = DpSgdBench.Run(parse.GetValue(dataset)!, parse.GetValue(model)!, parse.GetValue(batches)!, Math.Max(1, parse.GetValue(runs)),
                parse.GetValue(clip), parse.GetValue(z), DeviceChoice.Resolve(parse.GetValue(device)!));
            output.Write(DpSgdBench.Table(rows));
            return 0;
        });
        return command;
    }
}
