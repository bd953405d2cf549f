using DefenseBench.Harness.Matrix;

namespace DefenseBench.Harness.Tests.Matrix;

/// <summary>A cell's id and its defence's canonical name are computed once per instance and never go stale.</summary>
public sealed class CellIdTests
{
    private const string Yaml = """
        name: ids
        seeds: 1
        blocks:
          - name: b
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 4
            attacks: [llg]
            defenses: [none, {topk: {keep: 0.5}}]
        """;

    [Fact]
    public void Reading_the_id_twice_gives_the_same_string_and_a_with_copy_its_own()
    {
        var cells = MatrixLoader.Parse(Yaml, "ids.yaml").Cells;
        var (none, topk) = (cells[0], cells[1]);
        Assert.Same(topk.Id, topk.Id);
        Assert.Same(topk.Defense.Canonical, topk.Defense.Canonical);
        var copy = none with { Defense = topk.Defense };
        Assert.Equal(topk.Id, copy.Id);
        Assert.NotEqual(none.Id, copy.Id);
        Assert.Equal(topk, copy with { Block = topk.Block });
    }
}
