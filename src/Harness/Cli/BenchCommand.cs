using System.CommandLine;
using DefenseBench.Core.Components;
using DefenseBench.Defenses.External;
using DefenseBench.Defenses.SecureAggregation;
using DefenseBench.Harness.Bench;
using DefenseBench.Harness.Matrix;
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
        return new Command("bench", "Benchmarks whose numbers the issues and the README quote.") { llgPlus, MatrixCommand(output), Ilrg(output), SecAgg(output), DpSgd(output), Reconstruction(output), Exec(output) };
    }

    private static Command MatrixCommand(TextWriter output)
    {
        var matrix = new Argument<string>("matrix")
        {
            Description = "the matrix whose cells to time (default: matrices/quick.yaml)", Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => Path.Combine("matrices", "quick.yaml"),
        };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | cuda:N", DefaultValueFactory = _ => "auto" };
        var seeds = new Option<int?>("--seeds") { Description = "run seeds 0..N-1 instead of the matrix's seeds" };
        var every = new Option<int>("--memory-every") { Description = "sample memory every N cell runs (0: only at the end)", DefaultValueFactory = _ => 100 };
        var batchSeeds = new Option<bool?>("--batch-seeds") { Description = "solve all seeds of a reconstruction cell together (true) or each alone (false), as `run --batch-seeds` does; default: together on CUDA" };
        var compare = new Option<bool>("--compare-batching")
        {
            Description = "time the matrix twice, each reconstruction cell's seeds solved alone and then together, and print the end-to-end ratio and the rows' PSNR differences",
        };
        var command = new Command("matrix",
            "Time the cells of a matrix as `run` runs them, without writing results: cells per second and time per attack for each block and attack, " +
            "and peak memory (process RSS high-water, managed heap, GPU).")
        {
            matrix, device, seeds, every, batchSeeds, compare,
        };
        command.SetAction(parse =>
        {
            var spec = MatrixLoader.Load(parse.GetValue(matrix)!);
            if (parse.GetValue(seeds) is { } n)
                spec = spec.WithSeeds(MatrixLoader.SeedCountProblem(n) is { } problem ? throw new InputException(problem) : n);
            var target = DeviceChoice.Resolve(parse.GetValue(device)!);
            int memoryEvery = Math.Max(0, parse.GetValue(every));
            if (parse.GetValue(compare))
            {
                if (parse.GetValue(batchSeeds) != null) throw new InputException("--compare-batching runs both modes, so --batch-seeds has no meaning beside it", "give one of them");
                var comparison = MatrixBench.CompareBatching(spec, target, memoryEvery);
                output.Write(MatrixBench.Table(comparison));
                return comparison.Unbatched.Failed + comparison.Batched.Failed > 0 ? 1 : 0;
            }
            var result = MatrixBench.Run(spec, target, memoryEvery, batch: RunOptions.BatchSeeds(parse.GetValue(batchSeeds), target.type));
            output.Write(MatrixBench.Table(result));
            return result.Failed > 0 ? 1 : 0;
        });
        return command;
    }

    private static Command Ilrg(TextWriter output)
    {
        var classes = new Option<int[]>("--classes") { Description = "class counts C of the grid", DefaultValueFactory = _ => [10, 100], AllowMultipleArgumentsPerToken = true };
        var batches = new Option<int[]>("--batch") { Description = "batch sizes B of the grid", DefaultValueFactory = _ => [64, 256, 1024], AllowMultipleArgumentsPerToken = true };
        var large = new Option<int>("--large-batch") { Description = "the batch of the whole-cell check (LeNet-5, C = 100); 0 skips it", DefaultValueFactory = _ => 4096 };
        var many = new Option<int>("--many-classes") { Description = "the class count of the large-C check (LeNet-5, B = 1024); 0 skips it", DefaultValueFactory = _ => 1000 };
        var runs = new Option<int>("--runs") { Description = "timed runs per setting (median reported)", DefaultValueFactory = _ => 5 };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | cuda:N", DefaultValueFactory = _ => "auto" };
        var command = new Command("ilrg", "Time iLRG's restoration, the gradient alone and both, on LeNet-5, FCN-3 and the DLG LeNet (untrained, eval mode).")
        {
            classes, batches, large, many, runs, device,
        };
        command.SetAction(parse =>
        {
            var target = DeviceChoice.Resolve(parse.GetValue(device)!);
            int n = Math.Max(1, parse.GetValue(runs));
            output.WriteLine(IlrgBench.Header);
            foreach (var (model, dataset) in IlrgBench.Settings)
                foreach (int c in parse.GetValue(classes)!)
                    foreach (int b in parse.GetValue(batches)!)
                        output.WriteLine(IlrgBench.Line(IlrgBench.Time(model, dataset, c, b, n, target)));
            if (parse.GetValue(large) is > 0 and var bigBatch)
                output.WriteLine(IlrgBench.Line(IlrgBench.Time("lenet5", "synthetic-cifar100", 100, bigBatch, n, target)));
            if (parse.GetValue(many) is > 0 and var manyClasses)
                output.WriteLine(IlrgBench.Line(IlrgBench.Time("lenet5", "synthetic-cifar100", manyClasses, 1024, n, target)));
            return 0;
        });
        return command;
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

    private static Command Reconstruction(TextWriter output)
    {
        var attacks = new Option<string[]>("--attack") { Description = "gradient-matching attacks", DefaultValueFactory = _ => ["dlg", "dlm"], AllowMultipleArgumentsPerToken = true };
        var batches = new Option<int[]>("--batch") { Description = "batch sizes B", DefaultValueFactory = _ => [1, 8], AllowMultipleArgumentsPerToken = true };
        var model = new Option<string>("--model") { Description = "model id", DefaultValueFactory = _ => "dlg-lenet" };
        var dataset = new Option<string>("--dataset") { Description = "dataset spec", DefaultValueFactory = _ => "mnist-sample" };
        var problems = new Option<int[]>("--problems")
        {
            Description = "numbers P of problems (victims) solved together; the speedup is over P = 1", DefaultValueFactory = _ => [1, 16, 64], AllowMultipleArgumentsPerToken = true,
        };
        var steps = new Option<int>("--steps") { Description = "optimiser steps per run (an L-BFGS step evaluates up to 25 times)", DefaultValueFactory = _ => 10 };
        var runs = new Option<int>("--runs") { Description = "timed runs, each on another victim, after one warm-up (median reported)", DefaultValueFactory = _ => 3 };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | cuda:N", DefaultValueFactory = _ => "auto" };
        var command = new Command("reconstruction",
            "Problem-steps per second of the gradient-matching attacks (DLG, iDLG, DLM, DLM+, IG) with P problems solved together, the speedup over P = 1, and the share of time in autograd.")
        {
            attacks, batches, problems, model, dataset, steps, runs, device,
        };
        command.SetAction(parse =>
        {
            var rows = ReconstructionBench.Run(parse.GetValue(dataset)!, parse.GetValue(model)!, parse.GetValue(attacks)!, parse.GetValue(batches)!,
                parse.GetValue(problems)!.Select(p => Math.Max(1, p)).ToArray(), Math.Max(1, parse.GetValue(steps)), Math.Max(1, parse.GetValue(runs)), DeviceChoice.Resolve(parse.GetValue(device)!));
            ReconstructionBench.Stream(rows, output);
            return 0;
        });
        return command;
    }

    private static Command Exec(TextWriter output)
    {
        var command = new Option<string>("--command")
        {
            Description = "the external defence's command, run in the current folder (IN and OUT appended, or nothing in persistent mode)",
            DefaultValueFactory = _ => "python3 examples/defenses/prune.py",
        };
        var parameters = new Option<string[]>("--param")
        {
            Description = "a parameter the program is given, NAME=VALUE (repeatable)", DefaultValueFactory = _ => ["keep=0.1"], AllowMultipleArgumentsPerToken = true,
        };
        var model = new Option<string>("--model") { Description = "model id whose gradient is the upload", DefaultValueFactory = _ => "dlg-lenet" };
        var dataset = new Option<string>("--dataset") { Description = "dataset spec (its shape and classes size the model)", DefaultValueFactory = _ => "synthetic-mnist" };
        var uploads = new Option<int>("--uploads") { Description = "timed uploads per mode after the first", DefaultValueFactory = _ => 20 };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | cuda:N", DefaultValueFactory = _ => "auto" };
        var bench = new Command("exec", "Time an external (exec) defence per upload in both modes: one process per upload, and one persistent process.")
        {
            command, parameters, model, dataset, uploads, device,
        };
        bench.SetAction(parse =>
        {
            var given = parse.GetValue(parameters)!.Select(p => p.Split('=', 2) is [var name, var value] && name.Length > 0
                ? new ExecParameter(name, ExecParameter.Interpret(value))
                : throw new InputException($"--param '{p}' is not NAME=VALUE", "write e.g. --param keep=0.1")).ToArray();
            string text = parse.GetValue(command)!;
            IReadOnlyList<ExecTiming> rows;
            try
            {
                rows = ExecBench.Run(text, given, parse.GetValue(model)!, parse.GetValue(dataset)!, Math.Max(1, parse.GetValue(uploads)),
                    DeviceChoice.Resolve(parse.GetValue(device)!));
            }
            catch (ExecDefenseException e)
            {
                throw new InputException($"bench exec: {e.Message}", "give --command a program that answers as examples/defenses/README.md says");
            }
            output.Write(ExecBench.Table(text, parse.GetValue(model)!, rows));
            return 0;
        });
        return bench;
    }
}
