using System.CommandLine;
using DefenseBench.Core.Components;
using DefenseBench.Harness.Baselines;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Cli;

internal static class VerifyCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var matrixArg = new Argument<string>("matrix") { Description = "the matrix file whose run to check" };
        var results = new Option<string?>("--results") { Description = "results folder (default: results/<matrix name>)" };
        var baseline = new Option<string?>("--baseline") { Description = "baseline file (default: results/baselines/<matrix name>.csv beside matrices/)" };
        var accept = new Option<bool>("--accept") { Description = "write the run's values as the new baseline" };
        var junit = new Option<string?>("--junit")
        {
            Description = "also write the outcome as a JUnit XML file (a test case per cell; moved cells fail), also when cells moved",
        };
        var markdown = new Option<string?>("--markdown")
        {
            Description = "also write the outcome as Markdown (status, counts, table of what moved) for a CI job summary or pull-request comment",
        };
        var command = new Command("verify",
            "Compare a run with its baseline using the matrix's per-metric tolerances. Exit 0 within tolerance, 1 when cells moved (table of them), 2 on bad input.")
        {
            matrixArg, results, baseline, accept, junit, markdown,
        };
        command.SetAction(parse =>
        {
            var reports = Reports(parse.GetValue(junit), parse.GetValue(markdown));
            if (parse.GetValue(accept) && reports.Length > 0)
                throw new InputException("--junit and --markdown report a comparison, and --accept makes none", "accept first, then verify with the reports");
            var matrix = MatrixLoader.Load(parse.GetValue(matrixArg)!);
            string dir = parse.GetValue(results) ?? Path.Combine("results", matrix.Name);
            string baselinePath = parse.GetValue(baseline) ?? Verifier.DefaultBaselinePath(matrix);
            var now = Verifier.Summarise(matrix, ResultsFolder.Read(dir).Rows, dir);
            if (parse.GetValue(accept))
            {
                var failing = now.Where(c => c.Status != CellRow.Ok).ToArray();
                if (failing.Length > 0)
                    error.WriteLine($"warning: accepting {failing.Length} cells whose runs were not all ok (e.g. {failing[0].CellId}: {failing[0].Status}); verify will expect that status");
                BaselineFile.Write(baselinePath, now);
                output.WriteLine($"accepted {now.Count} cells as {baselinePath}");
                return 0;
            }
            var moved = Verifier.Compare(matrix, BaselineFile.Read(baselinePath), now);
            var outcome = VerifyOutcome.Of(matrix.Name, baselinePath, now, moved);
            foreach (var (option, path, render) in reports)
            {
                Write(path, render(outcome), option);
                output.WriteLine($"wrote {path}");
            }
            if (moved.Count == 0)
            {
                output.WriteLine($"{matrix.Name}: all {now.Count} cells within tolerance of {baselinePath}");
                return 0;
            }
            output.Write(Verifier.Table(moved));
            error.WriteLine($"{matrix.Name}: {moved.Select(m => m.CellId).Distinct().Count()} of {now.Count} cells moved beyond tolerance " +
                            $"(re-accept with `verify {matrix.Path} --accept` if the change is intended)");
            return 1;
        });
        return command;
    }

    /// <summary>The reports asked for, their paths checked before any work; two reports into one file are refused.</summary>
    private static (string Option, string Path, Func<VerifyOutcome, string> Render)[] Reports(string? junit, string? markdown)
    {
        var reports = new List<(string, string, Func<VerifyOutcome, string>)>();
        if (junit != null) reports.Add(("--junit", PathArguments.OutputFile(junit, "--junit"), JunitReport.Render));
        if (markdown != null) reports.Add(("--markdown", PathArguments.OutputFile(markdown, "--markdown"), MarkdownReport.Render));
        if (junit != null && markdown != null && Path.GetFullPath(junit) == Path.GetFullPath(markdown))
            throw new InputException($"--junit and --markdown both name {junit}", "give each report its own file");
        return [.. reports];
    }

    private static void Write(string path, string text, string option)
    {
        try
        {
            File.WriteAllText(path, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{option} {path} cannot be written ({e.Message})", $"give {option} a file path in a folder that can be written");
        }
    }
}
