using System.CommandLine;
using DefenseBench.Core.Components;
using DefenseBench.Core.Native;
using DefenseBench.Harness.Matrix;

namespace DefenseBench.Harness.Cli;

/// <summary>
/// The `defensebench` command line. Exit codes: 0 success, 1 regression or failed cells, 2 invalid input with a
/// message naming the file, the line and the fix. User errors become exit 2 here and nowhere else.
/// </summary>
public static class CommandLine
{
    public static int Invoke(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("DefenseBench: measures how well federated-learning privacy defences stop leakage attacks.")
        {
            RunCommand.Create(output, error, args),
            VerifyCommand.Create(output, error),
            PlotCommand.Create(output),
            ListCommand.Create(output),
            DataCommand.Create(output, error),
            BenchCommand.Create(output),
            MergeCommand.Create(output, args),
            DoctorCommand.Create(output, error),
            AttackCommand.Create(output),
            PrivacyCommand.Create(output),
            LeaderboardCommand.Create(output),
            RecommendCommand.Create(output),
        };
        var libtorch = new Option<string?>(LibTorch.OptionName)
        {
            Description = $"the folder holding {LibTorch.LibraryFile("torch_cpu")} for builds with -p:TorchBackend=system " +
                          $"(else ${LibTorch.EnvironmentVariable}, else {LibTorch.SearchPathVariable})",
            Recursive = true,
        };
        root.Options.Add(libtorch);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) error.WriteLine($"error: {e.Message}");
            var path = new List<string>();
            for (var result = parse.CommandResult; result.Command != root; result = (System.CommandLine.Parsing.CommandResult)result.Parent!)
                path.Insert(0, result.Command.Name);
            error.WriteLine($"see `{string.Join(' ', ["defensebench", .. path, "--help"])}`");
            return 2;
        }
        LibTorch.Configure(parse.GetValue(libtorch));
        if (LibTorch.Bundled && parse.GetValue(libtorch) is { } ignored)
            error.WriteLine($"warning: {LibTorch.OptionName} {ignored} is ignored: this build ships its own libtorch (-p:TorchBackend={LibTorch.Backend}); " +
                            "build with -p:TorchBackend=system to use an installed one");
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (MatrixException e)
        {
            foreach (var problem in e.Errors) error.WriteLine(problem.Describe());
            error.WriteLine($"{e.Errors.Count} error(s); nothing was run.");
            return 2;
        }
        catch (InputException e)
        {
            error.WriteLine("error: " + e.Describe());
            return 2;
        }
    }
}
