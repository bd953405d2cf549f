using System.CommandLine;
using DefenseBench.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using DefenseBench.Core.Models;
using DefenseBench.Defenses;

namespace DefenseBench.Harness.Cli;

internal static class ListCommand
{
    public static Command Create(TextWriter output)
    {
        var what = new Argument<string?>("what") { Description = "attacks | defenses | models | datasets (default: all)", Arity = ArgumentArity.ZeroOrOne };
        what.AcceptOnlyFromAmong("attacks", "defenses", "models", "datasets");
        var command = new Command("list", "List attacks, defences, models and datasets with their parameters and defaults.") { what };
        command.SetAction(parse =>
        {
            string? only = parse.GetValue(what);
            if (only is null or "attacks")
                Components(output, "attacks", AttackCatalog.All.All.Select(i => (i.Id, i.Summary, i.Parameters))
                    .Append((Defenses.External.ExecSettings.Id,
                        "another program reads the server view: exec: {command, name, needs, params, timeout = 60} (examples/attacks/README.md)",
                        Array.Empty<ParameterSpec>())));
            if (only is null or "defenses")
                Components(output, "defenses", DefenseCatalog.All.All.Select(i => (i.Id, i.Summary, i.Parameters))
                    .Prepend(("none", "no defence", Array.Empty<ParameterSpec>()))
                    .Append((Defenses.External.ExecSettings.Id,
                        "another program defends each upload: exec: {command, name, params, timeout = 60, persistent = off} (examples/defenses/README.md)",
                        Array.Empty<ParameterSpec>())));
            if (only is null or "models") Components(output, "models", ModelCatalog.All.All.Select(i => (i.Id, i.Summary, i.Parameters)));
            if (only is null or "datasets")
            {
                output.WriteLine("datasets:");
                foreach (var k in DatasetCatalog.Kinds) output.WriteLine($"  {(k.NeedsPath ? k.Id + ":PATH" : k.PathOptional ? k.Id + "[:PATH]" : k.Id),-22} {k.Summary}");
            }
            return 0;
        });
        return command;
    }

    private static void Components(TextWriter output, string title, IEnumerable<(string Id, string Summary, IReadOnlyList<ParameterSpec> Parameters)> items)
    {
        output.WriteLine($"{title}:");
        foreach (var (id, summary, parameters) in items)
        {
            output.WriteLine($"  {id,-22} {summary}");
            foreach (var p in parameters)
                output.WriteLine($"      {$"{p.Name} = {p.Format(p.Default)}",-26} {p.Domain}; {p.Help}");
        }
    }
}
