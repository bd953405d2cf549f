using System.CommandLine;
using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Cli;

internal static class PlotCommand
{
    public static Command Create(TextWriter output)
    {
        var dir = new Argument<string>("results") { Description = "a results folder with cells.csv" };
        var command = new Command("plot", "Re-render the plots of a finished run from its cells.csv alone.") { dir };
        command.SetAction(parse =>
        {
            string folder = parse.GetValue(dir)!;
            var rows = ResultsFolder.Read(folder).Rows;
            var run = new RunFolder(folder);
            using var folderLock = ResultsLock.Acquire(folder, "defensebench plot");
            var exported = RunExporters.ExportAll(rows, run);
            foreach (string p in exported.Plots) output.WriteLine(p);
            output.WriteLine($"{exported.Plots.Count} plots (PNG and SVG) in {run.Plots}");
            if (exported.ImageIndex is { } index) output.WriteLine($"reconstructions: {index}");
            return 0;
        });
        return command;
    }
}
