using System.CommandLine;
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
        var command = new Command("verify",
            "Compare a run with its baseline using the matrix's per-metric tolerances. Exit 0 within tolerance, 1 when cells moved (table of them), 2 on bad input.")
        {
            matrixArg, results, baseline, accept,
        };
        command.SetAction(parse =>
        {
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
}
