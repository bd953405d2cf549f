using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Fuzz;

/// <summary>
/// Loading every matrix of <see cref="MatrixCorpus"/> (through `verify`, which loads the matrix and then needs a run
/// it will not find, so nothing is trained): exit 2, never a stack trace, never an internal error.
/// </summary>
public sealed class MatrixFileTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> Defects() => [.. MatrixCorpus.Defects().Select(m => m.Name)];

    private CliResult Load(CorpusMatrix matrix)
    {
        string path = _temp.Write(matrix.Name + ".yaml", matrix.Text);
        var result = InProcess.Run("verify", path, "--results", _temp["no-run"], "--baseline", _temp["no-baseline.csv"]);
        Assert.True(result.ExitCode == 2, $"{matrix.Name}: {result.Output}");
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", result.Output, StringComparison.Ordinal);
        return result;
    }

    [Theory]
    [MemberData(nameof(Defects))]
    public void Every_defect_is_an_input_error(string name)
    {
        var matrix = MatrixCorpus.Defects().Single(m => m.Name == name);
        var result = Load(matrix);
        if (matrix.Expect != null) Assert.Contains(matrix.Expect, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_mutations_of_the_quick_matrix_load_or_are_input_errors()
    {
        foreach (var matrix in MatrixCorpus.Mutations(seed: 2, count: 60)) Load(matrix);
    }
}
