using DefenseBench.Core.Components;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Matrix;

/// <summary>The scenario key `round`: its cells, their ids, and the errors of bad values.</summary>
public sealed class RoundKeyTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private static string Matrix(string round) => $"""
        name: rounds
        blocks:
          - name: b
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 4
            attacks: [llg]
        {round}
        """;

    private static IReadOnlyList<Cell> Cells(string round) => MatrixLoader.Parse(Matrix(round), "m.yaml").Cells;

    private static IReadOnlyList<InputException> Errors(string round) =>
        Assert.Throws<MatrixException>(() => MatrixLoader.Parse(Matrix(round), "m.yaml")).Errors;

    [Fact]
    public void Round_zero_is_the_cell_without_the_key_with_the_same_id()
    {
        var without = Assert.Single(Cells(""));
        var zero = Assert.Single(Cells("    round: 0"));

        Assert.Equal(0, without.Round);
        Assert.Equal(without.Id, zero.Id);
        Assert.DoesNotContain("round", zero.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void A_list_of_rounds_is_a_sweep_whose_later_rounds_are_cells_of_their_own()
    {
        var cells = Cells("    round: [0, 1, 5, 20]");

        Assert.Equal([0, 1, 5, 20], cells.Select(c => c.Round));
        Assert.Equal(4, cells.Select(c => c.Id).Distinct().Count());
        Assert.Equal(Assert.Single(Cells("")).Id, cells[0].Id);
        Assert.EndsWith("|round=5", cells[2].Description, StringComparison.Ordinal);
        Assert.Single(cells.Select(c => c.Scenario.Canonical).Distinct()); // the same victims at every round
    }

    [Theory]
    [InlineData("-1", "round -1 is out of range")]
    [InlineData("100001", "round 100001 is out of range")]
    [InlineData("two", "round 'two' is not an integer")]
    [InlineData("1.5", "round '1.5' is not an integer")]
    public void A_bad_round_is_reported_with_its_line_and_the_range_to_write(string value, string message)
    {
        var error = Assert.Single(Errors($"    round: {value}"));

        Assert.Equal("m.yaml", error.File);
        Assert.Equal(8, error.Line);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains("write an integer from 0 to 100000", error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_round_of_a_list_is_reported_at_once_and_an_empty_list_is_refused()
    {
        var errors = Errors("    round: [1, -2, x]");
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Message.Contains("round -2", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("round 'x'", StringComparison.Ordinal));

        var empty = Assert.Single(Errors("    round: []"));
        Assert.Contains("'round' is an empty list", empty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_round_makes_run_exit_2_naming_the_file_and_line()
    {
        string path = _temp.Write("bad-round.yaml", Matrix("    round: -3"));

        var result = InProcess.Expect(2, "run", path, "--out", _temp["out"], "--device", "cpu");

        Assert.Contains("bad-round.yaml:8", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("write an integer from 0 to 100000", result.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
