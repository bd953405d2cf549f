using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Defenses;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Tests.Support;

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

/// <summary>
/// A defence's column is written from the values it was created with; the components' own canonical names must agree
/// with it, or cell ids (hashes of these names) would move: every defence with its defaults and with each parameter
/// varied, alone and in a two-stage pipeline, and every defence of quick.yaml.
/// </summary>
public sealed class DefenseCanonicalTests
{
    [Fact]
    public void The_defense_column_from_values_is_the_pipeline_s_own_canonical_name()
    {
        var checkedCount = 0;
        foreach (var info in DefenseCatalog.All.All)
            foreach (var values in Variants(info.Parameters))
            {
                var choice = new DefenseChoice([(info.Id, values)]);
                IDefense[] built;
                try { built = [DefenseCatalog.All.Get(info.Id).Create(values)]; }
                catch (Exception e) when (e is InputException or ArgumentException) { continue; } // refused, as the parser would
                Assert.Equal(DefensePipeline.From(built).Canonical, choice.Canonical);
                checkedCount++;
            }
        var topk = DefenseCatalog.All.Get("topk");
        var secagg = DefenseCatalog.All.Get("secagg");
        var pipeline = new DefenseChoice([("topk", ParameterValues.Create(topk.Parameters)), ("secagg", ParameterValues.Create(secagg.Parameters))]);
        Assert.Equal(pipeline.Create().Canonical, pipeline.Canonical);
        Assert.Equal("none", DefenseChoice.None.Canonical);
        foreach (var cell in MatrixLoader.Load(Repository.File("matrices", "quick.yaml")).Cells)
            Assert.Equal(cell.Defense.Create().Canonical, cell.Defense.Canonical);
        Assert.True(checkedCount > 2 * DefenseCatalog.All.All.Count, $"only {checkedCount} settings checked");
    }

    /// <summary>The defaults, then each parameter alone set to other values of its domain.</summary>
    private static IEnumerable<ParameterValues> Variants(IReadOnlyList<ParameterSpec> specs)
    {
        yield return ParameterValues.Create(specs);
        foreach (var spec in specs)
        {
            object[] others = spec.Kind switch
            {
                ParameterKind.Choice => [.. spec.Choices],
                ParameterKind.Switch => [true, false],
                ParameterKind.Integer => [2, 16, 33],
                _ => [0.5, 1e-4, 3.25, 100.0, double.PositiveInfinity],
            };
            foreach (var value in others)
            {
                ParameterValues? values = null;
                try { values = ParameterValues.Create(specs, new Dictionary<string, object> { [spec.Name] = value }); }
                catch (Exception e) when (e is InputException or ArgumentException) { }
                if (values != null) yield return values;
            }
        }
    }
}
