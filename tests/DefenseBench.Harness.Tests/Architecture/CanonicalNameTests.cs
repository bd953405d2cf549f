using DefenseBench.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Defenses;
using DefenseBench.Harness.Plots;

namespace DefenseBench.Harness.Tests.Architecture;

/// <summary>
/// Canonical names are written in one place (<see cref="ParameterValues.CanonicalName"/>) and read back by one parser
/// (<see cref="CanonicalName.Parse"/>), the one the plots use: for every catalog entry, with its defaults and with every
/// parameter moved off its default, reading the name back gives the id and the values it was written from; a defence
/// made by its catalog entry is named from the values it was made with.
/// </summary>
public sealed class CanonicalNameTests
{
    public static TheoryData<string, string, bool> Entries()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (string id in AttackCatalog.All.Ids) { data.Add("attack", id, false); data.Add("attack", id, true); }
        foreach (string id in DefenseCatalog.All.Ids) { data.Add("defence", id, false); data.Add("defence", id, true); }
        return data;
    }

    [Theory]
    [MemberData(nameof(Entries))]
    public void Parsing_a_canonical_name_gives_back_the_values_it_was_written_from(string kind, string id, bool moved)
    {
        var parameters = kind == "attack" ? AttackCatalog.All.Get(id).Parameters : DefenseCatalog.All.Get(id).Parameters;
        var values = moved ? ParameterValues.Create(parameters, parameters.ToDictionary(p => p.Name, OffDefault)) : ParameterValues.Create(parameters);
        string name = values.CanonicalName(id);

        var parsed = CanonicalName.Parse(name);

        Assert.Equal(id, parsed.Id);
        Assert.Equal(values.Formatted, parsed.Parameters);
        Assert.Equal(name, parsed.ToString());
        Assert.Equal(name, ParameterValues.Create(parameters, Reread(parameters, parsed)).CanonicalName(id));
        if (moved && parameters.Count > 0) Assert.NotEqual(ParameterValues.Create(parameters).CanonicalName(id), name);
        if (kind == "defence") Assert.Equal(name, DefenseCatalog.All.Get(id).Create(values).Canonical);
    }

    [Fact]
    public void A_pipeline_reads_back_stage_by_stage()
    {
        var stages = new[]
        {
            ParameterValues.Create(DefenseCatalog.All.Get("dpsgd").Parameters, new Dictionary<string, object> { ["clip"] = double.PositiveInfinity, ["z"] = 0.0 }).CanonicalName("dpsgd"),
            ParameterValues.Create(DefenseCatalog.All.Get("topk").Parameters, new Dictionary<string, object> { ["keep"] = 1e-5, ["scope"] = "last-layer" }).CanonicalName("topk"),
            ParameterValues.Create(DefenseCatalog.All.Get("secagg-plus").Parameters).CanonicalName("secagg-plus"),
        };
        string pipeline = CanonicalName.Pipeline(stages);
        Assert.Equal("dpsgd(clip=inf,z=0)>topk(keep=1e-05,scope=last-layer,ef=off)>secagg-plus(degree=10,threshold=0.6,modulus_bits=32,quant_bits=22,clip=8,max_weight=1000,dropout=0,dropout_phase=mask)", pipeline);

        var parsed = CanonicalName.ParsePipeline(pipeline);

        Assert.Equal(stages, parsed.Select(s => s.ToString()));
        Assert.Equal(["dpsgd", "topk", "secagg-plus"], parsed.Select(s => s.Id));
        var plot = DefenseName.Parse(pipeline);
        Assert.Equal("dpsgd>topk>secagg-plus", plot.Family);
        Assert.Equal("last-layer", plot.Value("topk", "scope"));
        Assert.Equal("8", plot.Value("secagg-plus", "clip"));
        Assert.Equal("inf", plot.Value("dpsgd", "clip"));
    }

    [Fact]
    public void Exec_stages_of_different_names_are_different_families_and_none_is_a_built_in_one()
    {
        var prune = DefenseName.Parse("exec(name=prune,keep=0.1)>secagg(threshold=0.6)");
        Assert.Equal("exec-prune>secagg", prune.Family);
        Assert.Equal("0.1", prune.Value("exec-prune", "keep"));
        Assert.NotEqual(DefenseName.Parse("exec(name=qsgd,levels=2)").Family, DefenseName.Parse("exec(name=prune,keep=0.5)").Family);
        Assert.Equal("exec-topk", DefenseName.Parse("exec(name=topk,keep=0.1)").Family);
    }

    [Fact]
    public void The_empty_pipeline_is_none_both_ways()
    {
        Assert.Equal("none", CanonicalName.Pipeline([]));
        Assert.Empty(CanonicalName.ParsePipeline("none"));
        Assert.Empty(CanonicalName.ParsePipeline(""));
        Assert.True(DefenseName.Parse("none").IsNone);
        Assert.Equal("llg", CanonicalName.Parse("llg").Id);
        Assert.Empty(CanonicalName.Parse("llg").Parameters);
    }

    /// <summary>A valid value other than the default (an even step for integers: secagg-plus's degree must stay even).</summary>
    private static object OffDefault(ParameterSpec p)
    {
        IEnumerable<object> candidates = p.Kind switch
        {
            ParameterKind.Switch => [!(bool)p.Default],
            ParameterKind.Choice => p.Choices.Where(c => c != (string)p.Default),
            ParameterKind.Integer => [(long)p.Default + 2, (long)p.Default - 2, (long)p.Default + 1, (long)p.Default - 1],
            _ => [Convert.ToDouble(p.Default) * 2, Convert.ToDouble(p.Default) / 2, Convert.ToDouble(p.Default) + 0.25, 0.5, 1.0],
        };
        foreach (object c in candidates)
            if (p.TryParse(p.Format(c), out object parsed) == null && p.Format(parsed) != p.Format(p.Default)) return parsed;
        throw new InvalidOperationException($"{p.Name}: no valid value besides the default {p.Format(p.Default)}");
    }

    private static Dictionary<string, object> Reread(IReadOnlyList<ParameterSpec> parameters, CanonicalName parsed) =>
        parsed.Parameters.ToDictionary(p => p.Name, p =>
        {
            var spec = parameters.Single(s => s.Name == p.Name);
            Assert.Null(spec.TryParse(p.Value, out object value));
            return value;
        });
}
