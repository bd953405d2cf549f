using DefenseBench.Core.Components;

namespace DefenseBench.Core.Tests.Components;

public sealed class CatalogTests
{
    private static Catalog<string> Defences() => new Catalog<string>()
        .Add("topk", "top-k", [ParameterSpec.Real("keep", 0.1, "kept")], v => $"topk {v.Real("keep")}")
        .Add("dpsgd", "DP-SGD", _ => "dpsgd")
        .Add("secagg", "secure aggregation", _ => "secagg")
        .Add("secagg-plus", "SecAgg+", _ => "secagg-plus");

    [Theory]
    [InlineData("topkk", "topk")]
    [InlineData("TOPK", "topk")]
    [InlineData("dp-sgd", "dpsgd")]
    [InlineData("secaggplus", "secagg-plus")]
    [InlineData("secag", "secagg")]
    public void Closest_suggests_the_nearest_id(string typed, string expected)
    {
        Assert.Equal(expected, Defences().Closest(typed));
    }

    [Theory]
    [InlineData("gaussian-mechanism")]
    [InlineData("zzzz")]
    public void Closest_gives_nothing_when_every_id_is_far(string typed)
    {
        Assert.Null(Defences().Closest(typed));
    }

    [Fact]
    public void Ids_keep_registration_order_and_create_with_defaults()
    {
        var catalog = Defences();

        Assert.Equal(["topk", "dpsgd", "secagg", "secagg-plus"], catalog.Ids);
        Assert.Equal("topk 0.1", catalog.Get("topk").CreateDefault());
        Assert.True(catalog.TryGet("dpsgd", out var info));
        Assert.Equal("DP-SGD", info.Summary);
        Assert.False(catalog.TryGet("noise", out _));
    }

    [Fact]
    public void Unknown_id_lists_the_known_ones()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => Defences().Get("noise"));

        Assert.Contains("unknown id 'noise'; known: topk, dpsgd, secagg, secagg-plus", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registering_an_id_twice_throws()
    {
        Assert.Throws<InvalidOperationException>(() => Defences().Add("topk", "again", _ => "x"));
    }

    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("", "abc", 3)]
    [InlineData("same", "same", 0)]
    [InlineData("flaw", "lawn", 2)]
    public void Edit_distance_is_levenshtein(string a, string b, int distance)
    {
        Assert.Equal(distance, Text.Distance(a, b));
        Assert.Equal(distance, Text.Distance(b, a));
    }

    [Fact]
    public void Input_errors_describe_where_what_and_how_to_fix()
    {
        Assert.Equal("m.yaml:7: bad keep; write 0.5", new InputException("bad keep", "write 0.5", "m.yaml", 7).Describe());
        Assert.Equal("m.yaml: bad keep", new InputException("bad keep", file: "m.yaml").Describe());
        Assert.Equal("bad keep; write 0.5", new InputException("bad keep", "write 0.5").Describe());
    }
}
