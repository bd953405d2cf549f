using DefenseBench.Attacks;
using DefenseBench.Core.Attacks;
using DefenseBench.Defenses;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Tests.Architecture;

/// <summary>
/// Every attack and defence in the catalogs describes itself: the harness reads an attack's plot family, sharding
/// cost and primary metric, and a defence's stateful options, from its entry and from nowhere else.
/// </summary>
public sealed class CatalogTraitsTests
{
    public static TheoryData<string> AttackIds() => [.. AttackCatalog.All.Ids];

    public static TheoryData<string> DefenceIds() => [.. DefenseCatalog.All.Ids];

    [Theory]
    [MemberData(nameof(AttackIds))]
    public void Every_attack_declares_its_family_cost_weight_and_primary_metric(string id)
    {
        Assert.True(AttackCatalog.All.TryGetTraits(id, out var traits), $"attack '{id}' has no traits in its catalog entry");
        Assert.False(string.IsNullOrWhiteSpace(traits.Family), $"attack '{id}' declares no family");
        Assert.True(double.IsFinite(traits.CostWeight) && traits.CostWeight >= 0, $"attack '{id}': cost weight {traits.CostWeight} is not a finite weight ≥ 0");
        Assert.True(traits.PrimaryMetric != null || !string.IsNullOrWhiteSpace(traits.NoPrimaryMetricBecause),
            $"attack '{id}' declares neither a primary metric nor why it has none");
        if (traits.PrimaryMetric is { } name)
        {
            var metric = Metrics.Find(name);
            Assert.True(metric != null, $"attack '{id}': primary metric '{name}' is not in the metric table");
            Assert.Equal(MetricKind.Leakage, metric.Kind);
            Assert.False(metric.IsRandomGuess, $"attack '{id}' is judged by a random-guess column");
        }
    }

    [Fact]
    public void Every_attack_has_a_short_name_of_its_own_for_leaderboard_columns()
    {
        var names = AttackCatalog.All.Ids.Select(id => (Id: id, Short: AttackCatalog.All.TraitsOf(id).ShortName)).ToList();

        Assert.All(names, n => Assert.False(string.IsNullOrWhiteSpace(n.Short), $"attack '{n.Id}' declares no short name"));
        Assert.All(names, n => Assert.True(n.Short!.Length <= 10 && !n.Short.Contains(' ', StringComparison.Ordinal), $"'{n.Short}' ({n.Id}) is not a short one-word name"));
        Assert.Equal(names.Count, names.Select(n => n.Short).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Traits_without_a_primary_metric_need_a_reason_and_not_both()
    {
        Assert.Throws<ArgumentException>(() => new AttackTraits("x", 0, null));
        Assert.Throws<ArgumentException>(() => new AttackTraits("x", 0, null, " "));
        Assert.Throws<ArgumentException>(() => new AttackTraits("x", 0, Metrics.LnAcc.Name, "it has none"));
        Assert.Equal(Metrics.LnAcc.Name, new AttackTraits("x", 0, Metrics.LnAcc.Name).PrimaryMetric);
        Assert.Null(new AttackTraits("x", 0, null, "existence only").PrimaryMetric);
    }

    [Fact]
    public void An_attack_family_is_judged_by_one_metric()
    {
        foreach (var family in AttackCatalog.All.Ids.GroupBy(id => AttackCatalog.All.TraitsOf(id).Family))
            Assert.Single(family.Select(id => AttackCatalog.All.TraitsOf(id).PrimaryMetric).Distinct());
    }

    [Fact]
    public void A_shared_name_prefix_does_not_make_a_family()
    {
        // The family used to be the id's prefix, which put the label attack idlg-label with the reconstruction attack idlg.
        Assert.NotEqual(AttackCatalog.All.TraitsOf("idlg").Family, AttackCatalog.All.TraitsOf("idlg-label").Family);
        Assert.Equal(AttackCatalog.All.TraitsOf("llg").Family, AttackCatalog.All.TraitsOf("llg-plus").Family);
    }

    [Fact]
    public void Cost_weights_are_the_ones_the_sharding_table_held()
    {
        var before = new Dictionary<string, double>
        {
            ["llg"] = 0, ["idlg-label"] = 0, ["gi-label"] = 0, ["rlg"] = 1, ["ebi"] = 1, ["ilrg"] = 1, ["ilrg-sim"] = 1,
            ["llg-star"] = 10, ["llg-plus"] = 20, ["fishing"] = 50,
            ["dlg"] = 1000, ["idlg"] = 1000, ["dlm"] = 1000, ["dlm-plus"] = 1000, ["ig"] = 1000,
        };
        foreach (var (id, weight) in before) Assert.Equal(weight, AttackCatalog.All.TraitsOf(id).CostWeight);
    }

    [Theory]
    [MemberData(nameof(DefenceIds))]
    public void Every_defence_declares_its_stateful_options_among_its_parameters(string id)
    {
        Assert.True(DefenseCatalog.All.TryGetTraits(id, out var traits), $"defence '{id}' has no traits in its catalog entry");
        var parameters = DefenseCatalog.All.Get(id).Parameters;
        foreach (var option in traits.StatefulOptions)
        {
            var spec = parameters.SingleOrDefault(p => p.Name == option.Parameter);
            Assert.True(spec != null, $"defence '{id}': stateful option '{option.Parameter}' is not one of its parameters");
            Assert.Contains(option.Stateless, spec.Domain.Split(" | "));
        }
    }

    [Fact]
    public void Looking_up_the_traits_of_an_unknown_id_fails_instead_of_defaulting()
    {
        Assert.Throws<KeyNotFoundException>(() => AttackCatalog.All.TraitsOf("no-such-attack"));
        Assert.False(AttackCatalog.All.TryGetTraits("no-such-attack", out _));
    }
}
