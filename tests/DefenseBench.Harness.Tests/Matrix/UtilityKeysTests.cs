using DefenseBench.Core.Components;
using DefenseBench.Harness.Utility;
using DefenseBench.Harness.Matrix;

namespace DefenseBench.Harness.Tests.Matrix;

public sealed class UtilityKeysTests
{
    private static MatrixSpec Parse(string yaml) => MatrixLoader.Parse(yaml, "m.yaml");

    private static InputException SingleError(string yaml, int line, string message)
    {
        var error = Assert.Single(Assert.Throws<MatrixException>(() => Parse(yaml)).Errors);
        Assert.Equal(line, error.Line);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(error.Fix));
        return error;
    }

    /// <summary>One block; <paramref name="extra"/> are further block lines (indented four spaces).</summary>
    private static string Block(string extra = "", string defenses = "[none]") => $"""
        name: one
        blocks:
          - name: b
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 4
            attacks: [llg]
            defenses: {defenses}
        {extra}
        """;

    [Fact]
    public void Without_a_utility_key_cells_train_nothing_and_keep_their_ids()
    {
        var cell = Assert.Single(Parse(Block()).Cells);

        Assert.Null(cell.Utility);
        Assert.Equal(1e-5, cell.Delta);
        Assert.DoesNotContain("utility", cell.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("delta", cell.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Utility_on_uses_the_ci_sized_defaults()
    {
        var cell = Assert.Single(Parse(Block("    utility: on")).Cells);

        Assert.Equal(UtilitySettings.Default, cell.Utility);
        Assert.Contains("|utility=clients=4,per_round=4,", cell.Description, StringComparison.Ordinal);
        Assert.Null(Assert.Single(Parse(Block("    utility: off")).Cells).Utility);
    }

    [Fact]
    public void A_utility_map_sets_each_training_setting_and_joins_the_cell_id()
    {
        var cells = Parse(Block("""
                utility: {clients: 10, per_round: 5, rounds: 20, local_steps: 10, lr: 0.3, batch_size: 32, partition: {dirichlet: 0.5}, train_images: 0, test_images: 1000}
            """)).Cells;

        var settings = Assert.Single(cells).Utility!;
        Assert.Equal(new UtilitySettings(10, 5, 20, 10, 0.3, 32, 0.5, 0, 1000), settings);
        Assert.Equal("clients=10,per_round=5,rounds=20,local_steps=10,lr=0.3,batch_size=32,partition=dirichlet(0.5),train_images=0,test_images=1000",
            settings.Canonical);
        Assert.NotEqual(Assert.Single(Parse(Block()).Cells).Id, cells[0].Id);
    }

    [Theory]
    [InlineData("iid", null)]
    [InlineData("dirichlet(0.1)", 0.1)]
    [InlineData("{dirichlet: 2}", 2.0)]
    public void A_partition_is_iid_or_dirichlet_with_its_alpha(string text, double? alpha) =>
        Assert.Equal(alpha, Assert.Single(Parse(Block($"    utility: {{partition: {text}}}")).Cells).Utility!.DirichletAlpha);

    [Fact]
    public void Utility_at_the_top_level_applies_to_every_block()
    {
        var yaml = "utility: {rounds: 3}\n" + Block();

        Assert.Equal(3, Assert.Single(Parse(yaml).Cells).Utility!.Rounds);
    }

    [Fact]
    public void An_unknown_utility_setting_is_reported_with_its_line_and_a_suggestion()
    {
        var error = SingleError(Block("    utility: {clients: 4,\n      round: 3}"), 10, "utility has no setting 'round'");

        Assert.Contains("did you mean 'rounds'?", error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_swept_utility_setting_is_an_error()
    {
        SingleError(Block("    utility:\n      rounds: [3, 4]"), 10, "utility rounds takes one value");
    }

    [Fact]
    public void More_clients_per_round_than_clients_is_an_error()
    {
        SingleError(Block("    utility: {clients: 4, per_round: 5}"), 9, "per_round 5 exceeds its 4 clients");
    }

    [Theory]
    [InlineData("dirichlet(-1)")]
    [InlineData("noniid")]
    [InlineData("{dirichlet: zero}")]
    public void A_bad_partition_is_reported(string text)
    {
        SingleError(Block($"    utility: {{partition: {text}}}"), 9, "is not iid or dirichlet");
    }

    [Fact]
    public void Delta_sets_the_delta_and_joins_the_cell_id_when_it_is_not_the_default()
    {
        var cell = Assert.Single(Parse(Block("    delta: 1e-6")).Cells);

        Assert.Equal(1e-6, cell.Delta);
        Assert.EndsWith("|delta=1e-06", cell.Description, StringComparison.Ordinal);
        SingleError(Block("    delta: 2"), 9, "delta '2' is not a number in (0, 1)");
    }

    [Fact]
    public void The_design_example_pipeline_of_dpsgd_then_topk_parses_with_every_parameter_spelled_out()
    {
        var cell = Assert.Single(Parse(Block(defenses: "[{pipeline: [{dpsgd: {clip: 1.0, z: 0.5}}, {topk: {keep: 0.1}}]}]")).Cells);

        Assert.Equal("dpsgd(clip=1,z=0.5)>topk(keep=0.1,scope=layer,ef=off)", cell.Defense.Canonical);
    }

    [Fact]
    public void A_pipeline_with_dpsgd_after_another_stage_is_reported_with_its_line()
    {
        SingleError(Block(defenses: "\n      - pipeline: [{topk: {keep: 0.1}}, {dpsgd: {clip: 1}}]"), 9, "dpsgd(clip=1,z=1) changes how each client computes its update");
    }

    [Fact]
    public void Infinite_clipping_with_noise_is_reported_with_its_line_and_the_fix()
    {
        var error = SingleError(Block(defenses: "\n      - dpsgd: {clip: inf, z: 1}"), 9, "would add noise of infinite std");

        Assert.Equal("give a finite clip, or z: 0", error.Fix);
    }
}
