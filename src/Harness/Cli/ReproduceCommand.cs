using System.CommandLine;
using DefenseBench.Harness.Reproduce;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Cli;

internal static class ReproduceCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var dir = new Argument<string>("results") { Description = "a finished results folder (cells.csv and manifest.json) to check" };
        var sample = new Option<double>("--sample")
        {
            Description = "the fraction of the run's cells to re-run, each with all its seeds (at least one cell)",
            DefaultValueFactory = _ => 0.1,
        };
        var seed = new Option<int>("--seed") { Description = "the seed that picks the sample (the same seed picks the same cells)", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | cuda:N", DefaultValueFactory = _ => "auto" };
        var command = new Command("reproduce",
            "Re-run a sample of a finished run's cells from its manifest (refused when the matrix file or the harness version differs) and compare every " +
            "metric within the matrix's tolerances; writes reproduce.json into the folder. Exit 0 when all agree, 1 when any differs, 2 on bad input.")
        {
            dir, sample, seed, device,
        };
        sample.Validators.Add(r =>
        {
            if (r.Tokens.Count == 1 && double.TryParse(r.Tokens[0].Value, System.Globalization.CultureInfo.InvariantCulture, out double f) && !(f > 0 && f <= 1))
                r.AddError($"--sample {r.Tokens[0].Value} is not a fraction in (0, 1]; give e.g. --sample 0.1, or --sample 1 for every cell");
        });
        command.SetAction(parse =>
        {
            string folder = parse.GetValue(dir)!;
            var report = new Reproducer(error).Reproduce(folder, parse.GetValue(sample), parse.GetValue(seed), parse.GetValue(device)!);
            report.Save(folder);
            foreach (var cell in report.Cells.Where(c => !c.Reproduced))
                foreach (var m in cell.Moved)
                    output.WriteLine($"  differs: {cell.CellId} {Escape.Terminal(cell.Attack)} {Escape.Terminal(cell.Defense)} seed {m.Seed}: {Escape.Terminal(m.Metric)}" +
                                     (m.Tolerance == null ? "" : $" was {Shown(m.Was)}, now {Shown(m.Now)}, tolerance {Baselines.Verifier.Format(m.Tolerance)}"));
            output.WriteLine($"{report.Summary}; wrote {Path.Combine(folder, ReproduceReport.FileName)}");
            return report.Reproduced == report.Sampled ? 0 : 1;
        });
        return command;
    }

    private static string Shown(double? v) => v == null ? "absent" : Baselines.Verifier.Format(v);
}
