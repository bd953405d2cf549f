using System.CommandLine;
using DefenseBench.Core.Components;
using DefenseBench.Core.Native;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Cli;

/// <summary>
/// The `defensebench` command line. Exit codes: 0 success, 1 regression or failed cells, 2 invalid input with a
/// message naming the file, the line and the fix. User errors become exit 2 here and nowhere else.
/// </summary>
public static class CommandLine
{
    private const string VerboseName = "--verbose";

    /// <summary>
    /// The command tree: every command, and the options all of them take. One tree for the command line and for the
    /// checks that the CI examples in docs/ci call commands and options it has.
    /// </summary>
    internal static RootCommand Root(TextWriter output, TextWriter error, string[] args)
    {
        var root = new RootCommand("DefenseBench: measures how well federated-learning privacy defences stop leakage attacks.")
        {
            RunCommand.Create(output, error, args),
            VerifyCommand.Create(output, error),
            ReproduceCommand.Create(output, error),
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
        var verbose = new Option<bool>(VerboseName) { Description = "on an internal error, print the stack trace too", Recursive = true };
        root.Options.Add(verbose);
        return root;
    }

    public static int Invoke(string[] args, TextWriter output, TextWriter error)
    {
        var root = Root(output, error, args);
        var libtorch = root.Options.OfType<Option<string?>>().Single(o => o.Name == LibTorch.OptionName);
        var verbose = root.Options.OfType<Option<bool>>().Single(o => o.Name == VerboseName);
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
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever escapes a command is a bug of the harness, not of the input: one line, exit 1, details on request.
            error.WriteLine(InternalError(parse.CommandResult.Command.Name, args, e));
            if (parse.GetValue(verbose)) error.WriteLine(e.ToString());
            return 1;
        }
    }

    /// <summary>The one line printed for an exception that escaped a command: the command, its input, what was thrown, what to do.</summary>
    internal static string InternalError(string command, IReadOnlyList<string> args, Exception e)
    {
        var inner = e;
        while (inner is AggregateException or System.Reflection.TargetInvocationException && inner.InnerException != null) inner = inner.InnerException;
        string message = inner.Message.Split('\n', 2)[0].Trim();
        string input = string.Join(' ', args.Select(a => a.Any(char.IsWhiteSpace) || a.Length == 0 ? $"'{a}'" : a));
        return $"internal error in `defensebench {command}` (input: {Escape.Terminal(input)}): {inner.GetType().Name}: {Escape.Terminal(message)}; " +
               "this is a bug of the harness: please report it with this command line and the output of the same command with --verbose";
    }
}
