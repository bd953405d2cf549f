using DefenseBench.Core.Components;
using DefenseBench.Core.Federation;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Tests.Support;
using Snapshooter.Xunit;

namespace DefenseBench.Harness.Tests.Matrix;

public sealed class MatrixLoaderTests
{
    /// <summary>A matrix in the spirit of the README's example, with the defences that exist today (a two-stage top-k pipeline stands in for dpsgd>topk).</summary>
    private const string DesignStyle = """
        name: design-style
        seeds: 3
        tolerance: {asr: 0.05, leacc: 0.05, lnacc: 0.05, psnr: 1.5}
        dataset: synthetic-mnist
        model: dlg-lenet
        batch_size: 4
        attacks: [llg]
        blocks:
          - name: llg-vs-topk
            batch_size: [1, 8]
            labels: [iid, non-iid]
            clients: [1, 2]
            protocol: fedsgd
            attacks: [llg, llg-star, llg-plus]
            defenses:
              - none
              - topk: {keep: [1.0, 0.5, 0.1], scope: layer, ef: off}
              - pipeline: [{topk: {keep: [0.5, 0.2]}}, {topk: {keep: 0.1, scope: last-layer}}]
          - name: defaults
            labels: balanced
        """;

    private static MatrixSpec Parse(string yaml) => MatrixLoader.Parse(yaml, "m.yaml");

    private static IReadOnlyList<InputException> Errors(string yaml) =>
        Assert.Throws<MatrixException>(() => MatrixLoader.Parse(yaml, "m.yaml")).Errors;

    /// <summary>The single error of a file; its line, and words that its message and fix must contain.</summary>
    private static InputException SingleError(string yaml, int line, string message, string fix)
    {
        var errors = Errors(yaml);
        var error = Assert.Single(errors);
        Assert.Equal("m.yaml", error.File);
        Assert.Equal(line, error.Line);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Fix);
        Assert.Contains(fix, error.Fix, StringComparison.Ordinal);
        return error;
    }

    /// <summary>A one-block matrix around <paramref name="block"/> (indented keys of the block).</summary>
    private static string OneBlock(string block, string top = "") => $"""
        name: one
        {top}
        blocks:
          - name: b
        {Indent(block)}
        """;

    private static string Indent(string block) => string.Join("\n", block.Split('\n').Select(l => "    " + l.TrimEnd('\r')));

    private const string BaseBlock = """
        dataset: synthetic-mnist
        model: dlg-lenet
        batch_size: 4
        labels: non-iid
        clients: 1
        protocol: fedsgd
        attacks: [llg]
        defenses: [none]
        """;

    private static string IdOf(string block) => Assert.Single(Parse(OneBlock(block)).Cells).Id;

    private static string Replace(string block, string key, string line) =>
        string.Join("\n", block.Split('\n').Select(l => l.StartsWith(key + ":", StringComparison.Ordinal) ? line : l));

    // ---------------------------------------------------------------- expansion

    [Fact]
    public void The_design_example_expands_into_the_product_of_its_lists_times_defences_times_attacks()
    {
        var matrix = Parse(DesignStyle);

        var sweep = matrix.Cells.Where(c => c.Block == "llg-vs-topk").ToArray();
        // 2 batch sizes x 2 label distributions x 2 client counts = 8 scenarios; 3 attacks;
        // defences: none + 3 keeps + a pipeline whose first stage sweeps 2 keeps = 6.
        Assert.Equal(8 * 3 * 6, sweep.Length);
        Assert.Equal(8, sweep.Select(c => c.Scenario.Canonical).Distinct().Count());
        Assert.Equal(["llg", "llg-plus", "llg-star"], sweep.Select(c => c.Attack.Id).Distinct().Order());
        Assert.Equal(
            [
                "none",
                "topk(keep=0.1,scope=layer,ef=off)",
                "topk(keep=0.2,scope=layer,ef=off)>topk(keep=0.1,scope=last-layer,ef=off)",
                "topk(keep=0.5,scope=layer,ef=off)",
                "topk(keep=0.5,scope=layer,ef=off)>topk(keep=0.1,scope=last-layer,ef=off)",
                "topk(keep=1,scope=layer,ef=off)",
            ],
            sweep.Select(c => c.Defense.Canonical).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(8 * 3 * 6 + 1, matrix.Cells.Count);
        Assert.Equal(matrix.Cells.Count, matrix.Cells.Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public void A_pipeline_of_two_stages_with_a_two_value_sweep_in_one_gives_two_pipelines()
    {
        var matrix = Parse(OneBlock(Replace(BaseBlock, "defenses",
            "defenses: [{pipeline: [{topk: {keep: 0.5, scope: global}}, {topk: {keep: [0.3, 0.1], scope: last-layer, ef: on}}]}]")));

        Assert.Equal(
            [
                "topk(keep=0.5,scope=global,ef=off)>topk(keep=0.3,scope=last-layer,ef=on)",
                "topk(keep=0.5,scope=global,ef=off)>topk(keep=0.1,scope=last-layer,ef=on)",
            ],
            matrix.Cells.Select(c => c.Defense.Canonical));
        Assert.All(matrix.Cells, c => Assert.Equal(2, c.Defense.Stages.Count));
    }

    [Fact]
    public void A_list_inside_an_attacks_parameters_is_a_sweep()
    {
        var matrix = Parse(OneBlock(Replace(BaseBlock, "attacks", "attacks: [{llg-plus: {aux_per_class: [4, 16], repeats: [1, 2, 3]}}]")));

        Assert.Equal(6, matrix.Cells.Count);
        Assert.Contains(matrix.Cells, c => c.Attack.Canonical == "llg-plus(repeats=3,aux_per_class=16,estimator=batched,scaling=sum,adaptive=on)");
    }

    [Fact]
    public void Top_level_keys_are_defaults_and_block_keys_override_them()
    {
        var matrix = Parse(DesignStyle);

        var defaults = Assert.Single(matrix.Cells, c => c.Block == "defaults");
        Assert.Equal(4, defaults.Scenario.BatchSize);
        Assert.Equal("synthetic-mnist", defaults.Scenario.Dataset);
        Assert.Equal("dlg-lenet", defaults.Scenario.Model);
        Assert.Equal(LabelDistribution.Balanced, defaults.Scenario.Labels);
        Assert.Equal(1, defaults.Scenario.Clients);
        Assert.Equal("llg", defaults.Attack.Canonical);
        Assert.Equal("none", defaults.Defense.Canonical);

        var overridden = matrix.Cells.Where(c => c.Block == "llg-vs-topk").ToArray();
        Assert.Equal([1, 8], overridden.Select(c => c.Scenario.BatchSize).Distinct().Order());
        Assert.Equal(3, overridden.Select(c => c.Attack.Id).Distinct().Count());
    }

    [Fact]
    public void A_stage_in_epochs_sweeps_and_keeps_the_canonical_names_of_step_stages()
    {
        var matrix = Parse(OneBlock(Replace(BaseBlock, "protocol", "protocol: fedsgd\nstage: [0, 100, {epochs: [1, 10], lr: 0.05, batch_size: 64}, {steps: 5, batch_size: 8}]")));

        Assert.Equal(
            ["untrained", "steps=100,lr=0.1,batch=32", "epochs=1,lr=0.05,batch=64", "epochs=10,lr=0.05,batch=64", "steps=5,lr=0.1,batch=8"],
            matrix.Cells.Select(c => c.Scenario.Stage.Canonical));
    }

    [Fact]
    public void A_stage_with_both_steps_and_epochs_is_an_error_at_its_line()
    {
        SingleError(OneBlock(Replace(BaseBlock, "protocol", "protocol: fedsgd\nstage: {steps: 10, epochs: 1}")), 11, "either steps or epochs", "{epochs: 10");
    }

    [Fact]
    public void Seeds_as_a_count_are_zero_to_count_minus_one()
    {
        Assert.Equal([0, 1, 2], Parse(DesignStyle).Seeds);
    }

    [Fact]
    public void Seeds_as_a_list_are_taken_as_written()
    {
        Assert.Equal([4, 7], Parse(OneBlock(BaseBlock, top: "seeds: [4, 7]")).Seeds);
    }

    [Fact]
    public void Tolerances_come_from_the_matrix_with_default_as_the_fallback()
    {
        var matrix = Parse(OneBlock(BaseBlock, top: "tolerance: {asr: 0.05, default: 0.001}"));

        Assert.Equal(0.05, matrix.ToleranceFor("asr"));
        Assert.Equal(0.001, matrix.ToleranceFor("lnacc"));
    }

    // ---------------------------------------------------------------- cell ids

    [Fact]
    public void Cell_ids_are_the_same_on_every_load()
    {
        var first = Parse(DesignStyle).Cells.Select(c => c.Id).ToArray();
        var second = Parse(DesignStyle).Cells.Select(c => c.Id).ToArray();

        Assert.Equal(first, second);
        Assert.All(first, id => Assert.Matches("^[0-9a-f]{12}$", id));
    }

    [Theory]
    [InlineData("dataset", "dataset: synthetic-cifar10")]
    [InlineData("dataset", "num_classes: 5\ndataset: synthetic-mnist")]
    [InlineData("model", "model: lenet5")]
    [InlineData("batch_size", "batch_size: 5")]
    [InlineData("labels", "labels: iid")]
    [InlineData("clients", "clients: 2")]
    [InlineData("protocol", "protocol: {fedavg: {steps: 2, lr: 0.1}}")]
    [InlineData("protocol", "protocol: fedsgd\nstage: 3")]
    [InlineData("protocol", "protocol: fedsgd\nmode: eval")]
    [InlineData("attacks", "attacks: [llg-star]")]
    [InlineData("attacks", "attacks: [{llg-plus: {aux_per_class: 16}}]")]
    [InlineData("defenses", "defenses: [{topk: {keep: 0.1}}]")]
    public void A_cell_id_changes_when_a_scenario_key_or_component_changes(string key, string replacement)
    {
        Assert.NotEqual(IdOf(BaseBlock), IdOf(Replace(BaseBlock, key, replacement)));
    }

    [Theory]
    [InlineData("{llg-plus: {aux_per_class: 16}}", "{llg-plus: {aux_per_class: 32}}")]
    [InlineData("{llg-plus: {aux_per_class: 16}}", "{llg-plus: {aux_per_class: 16, repeats: 11}}")]
    [InlineData("{llg-star: {dummy: zeros}}", "{llg-star: {dummy: ones}}")]
    public void A_cell_id_changes_when_an_attack_parameter_changes(string a, string b)
    {
        Assert.NotEqual(IdOf(Replace(BaseBlock, "attacks", $"attacks: [{a}]")), IdOf(Replace(BaseBlock, "attacks", $"attacks: [{b}]")));
    }

    [Theory]
    [InlineData("{topk: {keep: 0.1}}", "{topk: {keep: 0.2}}")]
    [InlineData("{topk: {keep: 0.1}}", "{topk: {keep: 0.1, scope: global}}")]
    [InlineData("{topk: {keep: 0.1}}", "{topk: {keep: 0.1, ef: on}}")]
    [InlineData("{pipeline: [{topk: {keep: 0.5}}, {topk: {keep: 0.1, scope: last-layer}}]}", "{pipeline: [{topk: {keep: 0.1, scope: last-layer}}, {topk: {keep: 0.5}}]}")]
    public void A_cell_id_changes_when_a_defence_parameter_or_the_stage_order_changes(string a, string b)
    {
        Assert.NotEqual(IdOf(Replace(BaseBlock, "defenses", $"defenses: [{a}]")), IdOf(Replace(BaseBlock, "defenses", $"defenses: [{b}]")));
    }

    [Theory]
    [InlineData("{topk: {keep: 0.1}}", "{topk: {ef: off, scope: layer, keep: 0.10}}")]
    [InlineData("topk", "{topk: {keep: 0.1}}")]
    [InlineData("{topk: null}", "{topk: {keep: 0.1}}")]
    public void The_same_defence_written_differently_has_the_same_id(string a, string b)
    {
        Assert.Equal(IdOf(Replace(BaseBlock, "defenses", $"defenses: [{a}]")), IdOf(Replace(BaseBlock, "defenses", $"defenses: [{b}]")));
    }

    [Fact]
    public void The_same_attack_written_with_its_defaults_spelled_out_has_the_same_id()
    {
        Assert.Equal(
            IdOf(Replace(BaseBlock, "attacks", "attacks: [llg-plus]")),
            IdOf(Replace(BaseBlock, "attacks", "attacks: [{llg-plus: {estimator: batched, aux_per_class: 64, repeats: 10}}]")));
    }

    [Fact]
    public void The_block_name_is_not_part_of_the_cell_id()
    {
        Assert.Equal(IdOf(BaseBlock), Assert.Single(Parse(OneBlock(BaseBlock).Replace("name: b", "name: other", StringComparison.Ordinal)).Cells).Id);
    }

    [Fact]
    public void Identical_cells_in_two_blocks_are_kept_once_under_the_first_block()
    {
        var matrix = Parse("""
            name: twice
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 2
            blocks:
              - name: first
                attacks: [llg, llg-star]
              - name: second
                attacks: [llg-plus, llg]
            """);

        Assert.Equal(3, matrix.Cells.Count);
        Assert.Equal(3, matrix.Cells.Select(c => c.Id).Distinct().Count());
        Assert.Equal("first", Assert.Single(matrix.Cells, c => c.Attack.Id == "llg").Block);
        Assert.Equal("second", Assert.Single(matrix.Cells, c => c.Attack.Id == "llg-plus").Block);
    }

    // ---------------------------------------------------------------- errors

    [Fact]
    public void Unknown_attack_is_reported_with_its_line_and_a_suggestion()
    {
        var error = SingleError("""
            name: typo
            blocks:
              - name: b
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: 4
                attacks: [llg-star, lgg]
            """, 7, "unknown attack 'lgg'", "did you mean 'llg'?");
        Assert.Contains("llg-plus", error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Keep_fraction_above_one_is_reported_with_its_line_and_the_allowed_range()
    {
        SingleError("""
            name: keep
            blocks:
              - name: b
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: 4
                attacks: [llg]
                defenses:
                  - none
                  - topk: {keep: 1.5}
            """, 10, "topk keep: 1.5 is out of range", "(0, 1]");
    }

    [Fact]
    public void An_odd_secagg_plus_degree_is_reported_with_its_line_and_the_fix()
    {
        SingleError("""
            name: degree
            blocks:
              - name: b
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: 4
                clients: 12
                attacks: [llg]
                defenses:
                  - secagg-plus: {degree: [4, 9]}
            """, 10, "secagg-plus degree: 9 is odd", "write an even degree");
    }

    [Fact]
    public void A_value_out_of_range_inside_a_sweep_points_at_its_own_line()
    {
        SingleError("""
            name: keep
            blocks:
              - name: b
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: 4
                attacks: [llg]
                defenses:
                  - topk:
                      keep:
                        - 0.5
                        - 0
            """, 12, "keep: 0 is out of range", "(0, 1]");
    }

    [Fact]
    public void A_block_without_attacks_is_reported_at_the_block_with_what_to_add()
    {
        SingleError("""
            name: missing
            blocks:
              - name: ok
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: 4
                attacks: [llg]
              - name: no-attacks
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: 4
            """, 8, "block 'no-attacks' has no 'attacks'", "add attacks:");
    }

    [Fact]
    public void Unknown_key_is_reported_with_its_line_and_the_closest_known_key()
    {
        SingleError("""
            name: key
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 4
            attacks: [llg]
            blocks:
              - name: b
                labls: iid
            """, 8, "unknown block key 'labls'", "did you mean 'labels'?");
    }

    [Fact]
    public void Unknown_top_level_key_is_reported_with_the_known_keys()
    {
        var error = SingleError(OneBlock(BaseBlock, top: "colour: red"), 2, "unknown matrix key 'colour'", "known keys:");
        Assert.Contains("blocks", error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_yaml_indentation_is_reported_with_its_line()
    {
        SingleError("""
            name: yaml
            blocks:
              - name: b
                dataset: synthetic-mnist
               model: dlg-lenet
                batch_size: 4
            """, 5, "not valid YAML", "fix the YAML syntax");
    }

    [Fact]
    public void An_unclosed_bracket_is_reported_as_bad_yaml_with_a_line_instead_of_crashing()
    {
        // YamlDotNet throws InvalidOperationException (not YamlException) for this input.
        var error = SingleError("""
            name: yaml
            blocks:
              - name: b
                dataset: [synthetic-mnist
                model: dlg-lenet
            """, 4, "not valid YAML", "fix the YAML syntax");
        Assert.Equal("m.yaml", error.File);
    }

    [Fact]
    public void An_unclosed_quote_is_reported_as_bad_yaml()
    {
        var error = Assert.Single(Errors("""
            name: "yaml
            blocks:
              - name: b
            """));
        Assert.Contains("not valid YAML", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Line);
    }

    [Fact]
    public void Wrong_protocol_is_reported_with_its_line_and_the_protocols_to_write()
    {
        SingleError(OneBlock(Replace(BaseBlock, "protocol", "protocol: fedsgx")), 10, "unknown protocol", "write fedsgd or {fedavg:");
    }

    [Fact]
    public void Unknown_fedavg_setting_is_reported_with_its_line()
    {
        SingleError(OneBlock(Replace(BaseBlock, "protocol", "protocol: {fedavg: {stepz: 3}}")), 10, "fedavg has no setting 'stepz'", "steps");
    }

    [Fact]
    public void Unknown_metric_in_tolerance_is_reported_with_its_line_and_a_suggestion()
    {
        SingleError(OneBlock(BaseBlock, top: "tolerance: {asr: 0.05, lnac: 0.05}"), 2, "unknown metric 'lnac' in tolerance", "did you mean 'lnacc'?");
    }

    [Fact]
    public void Num_classes_on_a_real_dataset_is_reported_at_num_classes()
    {
        SingleError("""
            name: classes
            blocks:
              - name: b
                dataset: mnist-sample
                num_classes: 5
                model: dlg-lenet
                batch_size: 4
                attacks: [llg]
            """, 5, "num_classes applies only to synthetic datasets", "remove num_classes");
    }

    [Fact]
    public void A_fedavg_learning_rate_of_infinity_is_rejected()
    {
        SingleError(OneBlock(Replace(BaseBlock, "protocol", "protocol: {fedavg: {steps: 2, lr: .inf}}")), 10, "fedavg lr", "write a");
    }

    [Fact]
    public void An_empty_attacks_list_is_reported_even_when_an_earlier_error_was_found()
    {
        var errors = Errors(OneBlock(Replace(BaseBlock, "attacks", "attacks: []"), top: "tolerance: {asrr: 0.05}"));

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Line == 2 && e.Message.Contains("asrr", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Line == 11 && e.Message.Contains("attacks list is empty", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("defenses", "defenses: []")]
    [InlineData("batch_size", "batch_size: []")]
    public void An_empty_list_that_would_leave_a_block_without_cells_is_reported(string key, string replacement)
    {
        var error = Assert.Single(Errors(OneBlock(Replace(BaseBlock, key, replacement))));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_list_of_parameter_values_is_reported()
    {
        SingleError(OneBlock(Replace(BaseBlock, "defenses", "defenses: [none, {topk: {keep: []}}]")), 12, "topk keep: the list of values is empty", "(0, 1]");
    }

    [Fact]
    public void An_empty_list_of_seeds_is_reported()
    {
        SingleError(OneBlock(BaseBlock, top: "seeds: []"), 2, "seeds is an empty list", "seeds: 3");
    }

    [Fact]
    public void An_error_in_a_top_level_default_is_reported_once_and_not_once_per_block()
    {
        var errors = Errors("""
            name: defaults
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 0
            attacks: [lgg]
            blocks:
              - name: a
              - name: b
            """);

        Assert.Equal([4, 5], errors.Select(e => e.Line ?? 0));
    }

    [Fact]
    public void A_file_with_three_different_errors_reports_all_three_at_once()
    {
        var errors = Errors("""
            name: three
            tolerance: {asr: 0.05, psnrr: 1}
            blocks:
              - name: b
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: 4
                attacks: [lgg]
                defenses:
                  - topk: {keep: 1.5}
            """);

        Assert.Equal(3, errors.Count);
        Assert.Equal([2, 8, 10], errors.Select(e => e.Line ?? 0));
        Assert.All(errors, e => Assert.False(string.IsNullOrEmpty(e.Fix)));
        Assert.All(errors, e => Assert.StartsWith($"m.yaml:{e.Line}: ", e.Describe(), StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_matrix_file_is_an_input_error_that_names_it()
    {
        var error = Assert.Throws<InputException>(() => MatrixLoader.Load(Path.Combine(Path.GetTempPath(), "no-such-matrix-7f3a.yaml")));
        Assert.Contains("no-such-matrix-7f3a.yaml", error.Message, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- quick.yaml

    [Fact]
    public void The_cells_of_the_quick_matrix_keep_their_ids()
    {
        var matrix = MatrixLoader.Load(Repository.File("matrices", "quick.yaml"));

        var cells = matrix.Cells.Select(c => new
        {
            id = c.Id,
            block = c.Block,
            attack = c.Attack.Canonical,
            defense = c.Defense.Canonical,
            // A round after 0 is written after the scenario, so round-0 entries read as they did before the key existed.
            scenario = c.Scenario.Canonical + (c.Round == 0 ? "" : $";round={c.Round}"),
        }).ToList();

        Snapshot.Match(cells);
    }
}
