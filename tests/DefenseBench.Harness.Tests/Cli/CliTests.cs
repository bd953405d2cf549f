using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Cli;

public sealed class CliTests : IDisposable
{
    private readonly TempFolder _temp = new();

    /// <summary>Three llg cells on dlg-lenet, one seed: a run that takes a second.</summary>
    internal const string Tiny = """
        name: tiny-cli
        seeds: 1
        blocks:
          - name: c
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 2
            attacks: [llg]
            defenses:
              - none
              - topk: {keep: [1.0, 0.5]}
        """;

    // ---------------------------------------------------------------- help and parsing

    [Theory]
    [InlineData("DefenseBench", "--help")]
    [InlineData("Run a matrix", "run", "--help")]
    [InlineData("Compare a run with its baseline", "verify", "--help")]
    [InlineData("Re-render the plots", "plot", "--help")]
    [InlineData("List attacks, defences, models and datasets", "list", "--help")]
    [InlineData("Get real datasets", "data", "--help")]
    [InlineData("Fetch a real dataset", "data", "fetch", "--help")]
    [InlineData("Join the folders of a sharded run", "merge", "--help")]
    [InlineData("Check the installation", "doctor", "--help")]
    [InlineData("Time the cells of a matrix", "bench", "matrix", "--help")]
    [InlineData("Run a label attack on an update captured", "attack", "--help")]
    [InlineData("Opacus's conventions", "privacy", "--help")]
    [InlineData("Publish a leaderboard", "leaderboard", "--help")]
    [InlineData("Choose a defence's parameter", "recommend", "--help")]
    public void Help_exits_0_and_describes_the_command(string description, params string[] args)
    {
        var help = InProcess.Expect(0, args);

        Assert.Contains(description, help.Stdout, StringComparison.Ordinal);
        Assert.Contains("Usage:", help.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_of_run_lists_its_options()
    {
        var help = InProcess.Expect(0, "run", "--help");

        foreach (string option in new[] { "--out", "--device", "--seeds", "--resume", "--shard", "--libtorch" })
            Assert.Contains(option, help.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("list", "--frobnicate")]
    [InlineData("run", "m.yaml", "--frobnicate")]
    [InlineData("verify")]
    [InlineData("run", "m.yaml", "--seeds", "0")]
    [InlineData("list", "weapons")]
    public void An_unknown_command_or_option_or_a_bad_argument_exits_2_with_a_message(params string[] args)
    {
        var result = InProcess.Expect(2, args);

        Assert.Contains("error", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--help", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_seeds_value_that_is_not_a_number_exits_2_instead_of_crashing()
    {
        var result = InProcess.Run("run", "m.yaml", "--seeds", "two");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--seeds", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_parse_error_in_a_nested_command_points_at_that_commands_help()
    {
        var result = InProcess.Expect(2, "data", "fetch", "mnist-sample", "--frobnicate");

        Assert.Contains("defensebench data fetch --help", result.Stderr, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- list

    [Fact]
    public void List_prints_the_attacks_the_defences_with_their_parameters_the_models_and_the_datasets()
    {
        var list = InProcess.Expect(0, "list");
        string[] lines = list.Stdout.Split('\n');

        foreach (string id in new[] { "llg", "llg-star", "llg-plus", "fishing", "none", "topk", "secagg", "secagg-plus", "dlg-lenet", "lenet5", "lenet5-bn", "fcn3", "synthetic-mnist", "mnist-sample" })
            Assert.Contains(lines, l => l.TrimStart().StartsWith(id + " ", StringComparison.Ordinal) || l.TrimStart().StartsWith(id + "[", StringComparison.Ordinal));
        int topk = Array.FindIndex(lines, l => l.TrimStart().StartsWith("topk ", StringComparison.Ordinal));
        var parameters = lines.Skip(topk + 1).TakeWhile(l => l.StartsWith("      ", StringComparison.Ordinal)).Select(l => l.Trim()).ToArray();
        Assert.Contains(parameters, p => p.StartsWith("keep = 0.1", StringComparison.Ordinal));
        Assert.Contains(parameters, p => p.StartsWith("scope = layer", StringComparison.Ordinal));
        Assert.Contains(parameters, p => p.StartsWith("ef = off", StringComparison.Ordinal));
        foreach (string section in new[] { "attacks:", "defenses:", "models:", "datasets:" })
            Assert.Contains(section, lines);
    }

    [Fact]
    public void List_shows_the_dp_defences_with_their_parameters()
    {
        var list = InProcess.Expect(0, "list", "defenses");

        foreach (string line in new[] { "dpsgd ", "dpfedavg ", "clipnoise ", "noise ", "clip = 1 ", "z = 1 ", "sigma = 0.1 ", "dist = gaussian " })
            Assert.Contains(line, list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_dpsgd_prints_the_ratio_to_the_plain_gradient_and_the_check_against_it()
    {
        var bench = InProcess.Expect(0, "bench", "dpsgd", "--batch", "3", "--runs", "2", "--device", "cpu");

        var lines = bench.Stdout.Trim().Split('\n');
        Assert.StartsWith("batch  plain_ms  dpsgd_ms  ratio", lines[0], StringComparison.Ordinal);
        var fields = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("3", fields[0]);
        Assert.True(double.Parse(fields[^1], System.Globalization.CultureInfo.InvariantCulture) < 1e-4, lines[1]);
    }

    [Fact]
    public void List_of_one_kind_prints_only_that_kind()
    {
        var list = InProcess.Expect(0, "list", "models");

        Assert.Contains("dlg-lenet", list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("llg-plus", list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_secagg_times_exact_rounds_and_the_prg()
    {
        var bench = InProcess.Expect(0, "bench", "secagg", "--clients", "6", "--parameters", "1000", "--degree", "4", "--threshold", "0.5", "--dropout", "0.2", "--runs", "2",
            "--prg-megabytes", "2");

        Assert.Contains("secagg-plus round: 6 clients, 1000 parameters, degree 4", bench.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, bench.Stdout.Split('\n').Count(l => l.TrimEnd().EndsWith(" yes", StringComparison.Ordinal)));
        Assert.Contains("mask PRG on one core: AES-256-CTR keystream", bench.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("an even --degree", "--degree", "3")]
    [InlineData("lower --dropout or --threshold", "--clients", "6", "--parameters", "10", "--degree", "2", "--dropout", "0.5", "--prg-megabytes", "1")]
    public void Bench_secagg_reports_bad_settings_and_aborting_rounds_as_bad_input(string fix, params string[] settings)
    {
        var bench = InProcess.Expect(2, ["bench", "secagg", .. settings]);

        Assert.Contains(fix, bench.Stderr, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- malformed matrices

    [Theory]
    [InlineData("attacks: [llg, lgg]", 7, "did you mean 'llg'?")]
    [InlineData("attacks: [{topk: {keep: 1.5}}]", 7, "unknown attack 'topk'")]
    [InlineData("defenses: [{topk: {keep: 1.5}}]", 7, "(0, 1]")]
    [InlineData("colour: red", 7, "did you mean 'labels'?|known keys:")]
    [InlineData("dataset: [synthetic-mnist", 7, "fix the YAML syntax")]
    [InlineData("  model: dlg-lenet", 7, "fix the YAML syntax")]
    public void A_malformed_matrix_exits_2_and_names_the_file_the_line_and_the_fix(string lastLine, int line, string fix)
    {
        string matrix = _temp.Write("bad.yaml", $"""
            name: bad
            blocks:
              - name: b
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: 2
                {lastLine}
            """ + (lastLine.StartsWith("attacks", StringComparison.Ordinal) ? "" : "\n    attacks: [llg]\n"));

        var run = InProcess.Expect(2, "run", matrix, "--out", _temp["out"]);

        Assert.Contains($"{matrix}:{line}: ", run.Stderr, StringComparison.Ordinal);
        Assert.Contains(fix.Split('|'), f => run.Stderr.Contains(f, StringComparison.Ordinal));
        Assert.Contains("nothing was run", run.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp["out"]));
    }

    [Fact]
    public void A_matrix_without_attacks_exits_2_and_says_what_to_add()
    {
        string matrix = _temp.Write("bad.yaml", """
            name: bad
            blocks:
              - name: b
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: 2
            """);

        var run = InProcess.Expect(2, "run", matrix, "--out", _temp["out"]);

        Assert.Contains($"{matrix}:3: block 'b' has no 'attacks'", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("add attacks:", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_with_a_malformed_matrix_exits_2_too()
    {
        string matrix = _temp.Write("bad.yaml", "name: bad\nblocks: []\n");

        var verify = InProcess.Expect(2, "verify", matrix, "--results", _temp["out"], "--baseline", _temp["b.csv"]);

        Assert.Contains($"{matrix}:2: ", verify.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_on_a_matrix_that_does_not_exist_exits_2()
    {
        string missing = _temp["missing.yaml"];

        var run = InProcess.Expect(2, "run", missing, "--out", _temp["out"]);

        Assert.Contains(missing, run.Stderr, StringComparison.Ordinal);
        Assert.Contains("does not exist", run.Stderr, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- plot

    [Fact]
    public void Plot_re_renders_the_plots_from_cells_csv_alone()
    {
        string matrix = _temp.Write("tiny-cli.yaml", Tiny);
        string results = _temp["out"];
        InProcess.Expect(0, "run", matrix, "--out", results, "--device", "cpu");
        string plots = Path.Combine(results, "plots");
        var drawn = Directory.GetFiles(plots).Select(Path.GetFileName).Order().ToArray();
        Assert.NotEmpty(drawn);
        Directory.Delete(plots, recursive: true);
        File.Delete(Path.Combine(results, Manifest.FileName));
        File.Delete(matrix);

        var plot = InProcess.Expect(0, "plot", results);

        Assert.Equal(drawn, Directory.GetFiles(plots).Select(Path.GetFileName).Order());
        Assert.Contains(drawn, f => f!.EndsWith(".png", StringComparison.Ordinal));
        Assert.Contains(drawn, f => f!.EndsWith(".svg", StringComparison.Ordinal));
        Assert.Contains("plots (PNG and SVG)", plot.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Plot_of_a_folder_without_cells_csv_exits_2()
    {
        var plot = InProcess.Expect(2, "plot", _temp.Path);

        Assert.Contains("cells.csv", plot.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
