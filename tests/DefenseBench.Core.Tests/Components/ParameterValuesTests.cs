using DefenseBench.Core.Components;

namespace DefenseBench.Core.Tests.Components;

public sealed class ParameterValuesTests
{
    private static readonly IReadOnlyList<ParameterSpec> TopK =
    [
        ParameterSpec.Real("keep", 0.1, "fraction kept", 0, 1, minExclusive: true),
        ParameterSpec.Choice("scope", "layer", "ranking scope", "layer", "global", "last-layer"),
        ParameterSpec.Switch("ef", false, "error feedback"),
    ];

    private static readonly IReadOnlyList<ParameterSpec> Mixed =
    [
        ParameterSpec.Integer("steps", 10, "local steps", min: 1),
        ParameterSpec.Real("lr", 0.1, "learning rate"),
    ];

    [Fact]
    public void Defaults_fill_every_parameter_in_declaration_order()
    {
        var values = ParameterValues.Create(TopK);

        Assert.Equal("keep=0.1,scope=layer,ef=off", values.Canonical);
        Assert.Equal("topk(keep=0.1,scope=layer,ef=off)", values.CanonicalName("topk"));
        Assert.Equal(0.1, values.Real("keep"));
        Assert.Equal("layer", values.Choice("scope"));
        Assert.False(values.Switch("ef"));
    }

    [Fact]
    public void Given_values_override_defaults_whatever_order_they_come_in()
    {
        var values = ParameterValues.Create(TopK, new Dictionary<string, object> { ["ef"] = true, ["keep"] = 0.5, ["scope"] = "global" });

        Assert.Equal("topk(keep=0.5,scope=global,ef=on)", values.CanonicalName("topk"));
    }

    [Fact]
    public void Parsed_values_produce_the_same_canonical_name_as_typed_ones()
    {
        var given = new Dictionary<string, object>();
        foreach (var (spec, text) in TopK.Zip(new[] { "1", "LAST-LAYER", "yes" }))
        {
            Assert.Null(spec.TryParse(text, out object value));
            given[spec.Name] = value;
        }

        Assert.Equal("topk(keep=1,scope=last-layer,ef=on)", ParameterValues.Create(TopK, given).CanonicalName("topk"));
    }

    [Fact]
    public void Numbers_are_normalised_to_the_parameter_kind()
    {
        var values = ParameterValues.Create(Mixed, new Dictionary<string, object> { ["steps"] = 3, ["lr"] = 1 });

        Assert.Equal(3, values.Integer("steps"));
        Assert.Equal(1.0, values.Real("lr"));
        Assert.Equal("fedavg(steps=3,lr=1)", values.CanonicalName("fedavg"));
    }

    [Fact]
    public void Integers_too_large_for_int_are_reported()
    {
        var values = ParameterValues.Create(Mixed, new Dictionary<string, object> { ["steps"] = 1L << 40 });

        Assert.Throws<OverflowException>(() => values.Integer("steps"));
    }

    [Fact]
    public void Unknown_names_throw()
    {
        var e = Assert.Throws<ArgumentException>(() => ParameterValues.Create(TopK, new Dictionary<string, object> { ["kep"] = 0.5 }));

        Assert.Contains("unknown parameter 'kep'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_component_without_parameters_is_named_by_its_id_alone()
    {
        var values = ParameterValues.Create([]);

        Assert.Equal("", values.Canonical);
        Assert.Equal("secagg", values.CanonicalName("secagg"));
    }

    [Fact]
    public void Infinite_reals_appear_as_inf_in_canonical_names()
    {
        var specs = new[] { ParameterSpec.Real("clip", 1, "clip norm", min: 0, minExclusive: true) };

        Assert.Equal("dpsgd(clip=inf)", ParameterValues.Create(specs, new Dictionary<string, object> { ["clip"] = double.PositiveInfinity }).CanonicalName("dpsgd"));
    }
}
