using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.Compression;
using TorchSharp;

namespace DefenseBench.Defenses.Tests;

public sealed class DefensePipelineTests
{
    /// <summary>A stand-in aggregation defence (the real ones live elsewhere); it only has to be one.</summary>
    private sealed class FakeSecureAggregation : IAggregationDefense
    {
        public string Canonical => "secagg";
        public Aggregated Aggregate(IReadOnlyList<Update> uploads, IReadOnlyList<double> weights, Rng rng) =>
            Aggregated.OfAll(Aggregation.WeightedMean(uploads, weights), uploads.Count);
    }

    /// <summary>Neither client-side nor aggregation-side.</summary>
    private sealed class Nonsense : IDefense
    {
        public string Canonical => "nonsense";
    }

    [Fact]
    public void None_is_the_empty_pipeline()
    {
        Assert.Equal("none", DefensePipeline.None.Canonical);
        Assert.Empty(DefensePipeline.None.ClientStages);
        Assert.Null(DefensePipeline.None.Aggregation);
        Assert.Equal("none", DefensePipeline.From([]).Canonical);
    }

    [Fact]
    public void Stages_are_joined_with_a_greater_than_sign_in_order()
    {
        var pipeline = DefensePipeline.From([DefenseCatalog.TopK(0.5, TopKScope.Global, true), DefenseCatalog.TopK(0.1, TopKScope.Layer, false), new FakeSecureAggregation()]);

        Assert.Equal("topk(keep=0.5,scope=global,ef=on)>topk(keep=0.1,scope=layer,ef=off)>secagg", pipeline.Canonical);
        Assert.Equal(2, pipeline.ClientStages.Count);
        Assert.IsType<FakeSecureAggregation>(pipeline.Aggregation);
    }

    [Fact]
    public void An_aggregation_defence_must_come_last()
    {
        var e = Assert.Throws<ArgumentException>(() => DefensePipeline.From([new FakeSecureAggregation(), DefenseCatalog.TopK(0.1, TopKScope.Layer, false)]));

        Assert.Contains("secagg aggregates the uploads, so it must be the last stage", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => DefensePipeline.From([new FakeSecureAggregation(), new FakeSecureAggregation()]));
    }

    [Fact]
    public void A_stage_of_neither_kind_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => DefensePipeline.From([new Nonsense()]));

        Assert.Contains("nonsense is neither", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_client_keeps_its_own_error_feedback_state()
    {
        using var scope = torch.NewDisposeScope();
        var pipeline = DefensePipeline.From([DefenseCatalog.TopK(0.5, TopKScope.Layer, true), DefenseCatalog.TopK(0.5, TopKScope.Layer, false)]);
        var upload = new Update(UpdateKind.Gradient, [("w", torch.tensor(new float[] { 4, -3, 2, 1 }))]);
        using var sessions = pipeline.OpenSessions(3);

        var first = sessions.Apply(0, upload, new Rng(1));
        var second = sessions.Apply(0, upload, new Rng(1));
        var otherClient = sessions.Apply(1, upload, new Rng(1));

        Assert.True(otherClient.IdenticalTo(first));
        Assert.False(second.IdenticalTo(first));
    }

    [Fact]
    public void Every_catalog_defence_has_a_canonical_name_starting_with_its_id()
    {
        foreach (var info in DefenseCatalog.All.All)
            Assert.StartsWith(info.Id, info.CreateDefault().Canonical, StringComparison.Ordinal);
        Assert.Equal("topk", DefenseCatalog.All.Closest("top-k"));
    }
}
