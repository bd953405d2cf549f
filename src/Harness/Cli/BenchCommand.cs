using System.CommandLine;
using DefenseBench.Core.Components;
using DefenseBench.Defenses.SecureAggregation;
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
        return new Command("bench", "Benchmarks whose numbers the issues and the README quote.") { llgPlus, SecAgg(output) };
    }

    private static Command SecAgg(TextWriter output)
    {
        var clients = new Option<int>("--clients") { Description = "clients n", DefaultValueFactory = _ => 100 };
        var parameters = new Option<int>("--parameters") { Description = "parameters per update", DefaultValueFactory = _ => 100_000 };
        var degree = new Option<int>("--degree") { Description = "SecAgg+ neighbours per client (even)", DefaultValueFactory = _ => 10 };
        var threshold = new Option<double>("--threshold") { Description = "Shamir threshold as a fraction of the neighbours", DefaultValueFactory = _ => 0.6 };
        var dropout = new Option<double>("--dropout") { Description = "fraction of clients dropping before their masked input", DefaultValueFactory = _ => 0 };
        var runs = new Option<int>("--runs") { Description = "timed rounds (median reported) after one warm-up round", DefaultValueFactory = _ => 5 };
        var megabytes = new Option<int>("--prg-megabytes") { Description = "keystream generated for the PRG throughput", DefaultValueFactory = _ => 512 };
        var command = new Command("secagg", "Time one SecAgg+ round end to end (keys, Shamir, masks, unmasking) and the mask PRG on one core.")
        {
            clients, parameters, degree, threshold, dropout, runs, megabytes,
        };
        command.SetAction(parse =>
        {
            var settings = new SecAggBench.Settings(parse.GetValue(clients), parse.GetValue(parameters), parse.GetValue(degree), parse.GetValue(threshold),
                parse.GetValue(dropout), Math.Max(1, parse.GetValue(runs)));
            if (settings.Clients < 2 || settings.Parameters < 1 || settings.Degree < 2 || settings.Degree % 2 != 0 || settings.Threshold is <= 0 or > 1 || settings.Dropout is < 0 or >= 1)
                throw new InputException("bench secagg: out-of-range settings",
                    "use --clients >= 2, --parameters >= 1, an even --degree >= 2, --threshold in (0, 1] and --dropout in [0, 1)");
            SecAggRoundTiming[] rounds;
            try
            {
                rounds = SecAggBench.Rounds(settings).ToArray();
            }
            catch (SecAggAbortedException e)
            {
                throw new InputException($"bench secagg: the round aborted: {e.Message}", "lower --dropout or --threshold, or raise --degree");
            }
            output.Write(SecAggBench.Table(settings, rounds, SecAggBench.Prg(Math.Max(1, parse.GetValue(megabytes)))));
            return rounds.All(r => r.Exact) ? 0 : 1;
        });
        return command;
    }
}
