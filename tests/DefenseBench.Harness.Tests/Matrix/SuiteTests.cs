using DefenseBench.Harness.Matrix;

namespace DefenseBench.Harness.Tests.Matrix;

/// <summary>The suite hash: a matrix with its defence lists set aside, so only what the undefended cells measure counts.</summary>
public sealed class SuiteTests
{
    private static string Text(string defenses = "[none, {topk: {keep: 0.1}}]", string attacks = "[llg, ilrg]", string seeds = "2",
        string batch = "[1, 8]", string tolerance = "{leacc: 0.05}", string name = "suite") => $"""
        name: {name}
        seeds: {seeds}
        tolerance: {tolerance}
        blocks:
          - name: first
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: {batch}
            attacks: {attacks}
            defenses: {defenses}
        """;

    private static string Suite(string text) => Harness.Matrix.Suite.Sha256(MatrixLoader.Parse(text, "suite.yaml"));

    [Fact]
    public void Matrices_that_differ_only_in_their_defences_have_one_suite_hash()
    {
        string builtIn = Text();
        string exec = Text(defenses: "[none, {dpsgd: {clip: 1.0, z: [0.5, 1.0]}}, {pipeline: [{topk: {keep: 0.5}}, {noise: {scale: 0.01}}]}]");
        string undefended = Text(defenses: "[none]");

        Assert.NotEqual(MatrixLoader.Parse(builtIn, "a.yaml").Sha256, MatrixLoader.Parse(exec, "b.yaml").Sha256);
        Assert.Equal(Suite(builtIn), Suite(exec));
        Assert.Equal(Suite(builtIn), Suite(undefended));
        Assert.Equal(64, Suite(builtIn).Length);
    }

    [Fact]
    public void The_matrix_name_comments_and_block_names_do_not_change_the_suite()
    {
        string renamed = "# a submitter's copy\n" + Text(name: "alice").Replace("name: first", "name: mine", StringComparison.Ordinal);

        Assert.Equal(Suite(Text()), Suite(renamed));
    }

    [Theory]
    [InlineData("attacks")]
    [InlineData("seeds")]
    [InlineData("scenario")]
    [InlineData("tolerance")]
    public void Changing_what_the_undefended_cells_measure_changes_the_suite(string change)
    {
        string changed = change switch
        {
            "attacks" => Text(attacks: "[llg, llg-plus]"),
            "seeds" => Text(seeds: "3"),
            "scenario" => Text(batch: "[1, 4]"),
            _ => Text(tolerance: "{leacc: 0.1}"),
        };

        Assert.NotEqual(Suite(Text()), Suite(changed));
    }
}
