using DefenseBench.Core.Federation;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Tests.Federation;

public sealed class UpdateTests
{
    private static Update Sample(float bias = 0.5f) => new(UpdateKind.Gradient,
    [
        ("conv.weight", torch.tensor(new float[] { 1, -2, 3, -4 }).reshape(1, 1, 2, 2)),
        ("fc.weight", torch.tensor(new float[] { 0.25f, -0.75f, 1.5f, 0, 2, -1 }).reshape(2, 3)),
        ("fc.bias", torch.tensor(new float[] { bias, -bias })),
    ]);

    [Fact]
    public void Identical_updates_are_identical()
    {
        using var scope = torch.NewDisposeScope();

        Assert.True(Sample().IdenticalTo(Sample()));
        Assert.True(Sample().IdenticalTo(Sample().Clone()));
    }

    [Fact]
    public void Updates_differing_in_one_value_are_not_identical()
    {
        using var scope = torch.NewDisposeScope();

        Assert.False(Sample().IdenticalTo(Sample(bias: 0.5000001f)));
    }

    [Fact]
    public void Updates_differing_in_kind_names_or_shape_are_not_identical()
    {
        using var scope = torch.NewDisposeScope();
        var delta = new Update(UpdateKind.WeightDelta, Sample().Entries);
        var renamed = Sample().Entries.Select(e => (e.Name == "fc.bias" ? "fc.b" : e.Name, e.Value));
        var reshaped = Sample().Entries.Select(e => (e.Name, e.Name == "fc.weight" ? e.Value.reshape(3, 2) : e.Value));

        Assert.False(Sample().IdenticalTo(delta));
        Assert.False(Sample().IdenticalTo(new Update(UpdateKind.Gradient, renamed)));
        Assert.False(Sample().IdenticalTo(new Update(UpdateKind.Gradient, reshaped)));
    }

    [Fact]
    public void Names_must_be_unique()
    {
        using var scope = torch.NewDisposeScope();

        Assert.Throws<ArgumentException>(() => new Update(UpdateKind.Gradient, [("a", torch.zeros(2)), ("a", torch.ones(2))]));
    }

    [Fact]
    public void Tensors_are_found_by_name_and_a_missing_one_is_named_in_the_error()
    {
        using var scope = torch.NewDisposeScope();
        var update = Sample();

        Assert.Equal(["conv.weight", "fc.weight", "fc.bias"], update.Names);
        Assert.Equal(3, update.Count);
        Assert.Equal(12, update.ElementCount);
        Assert.True(update.Contains("fc.bias"));
        Assert.False(update.Contains("fc"));
        Assert.Equal(-0.5f, update["fc.bias"][1].item<float>());
        var e = Assert.Throws<KeyNotFoundException>(() => update["conv.bias"]);
        Assert.Contains("'conv.bias' (it has conv.weight, fc.weight, fc.bias)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_and_clone_return_new_tensors_and_keep_the_input()
    {
        using var scope = torch.NewDisposeScope();
        var update = Sample();

        var doubled = update.Map((_, t) => t * 2);
        var clone = update.Clone();
        clone["fc.bias"].add_(1);

        Assert.Equal(UpdateKind.Gradient, doubled.Kind);
        Assert.Equal(1.0f, doubled["fc.bias"][0].item<float>());
        Assert.Equal(0.5f, update["fc.bias"][0].item<float>());
        Assert.Equal(update.Names, clone.Names);
    }

    [Fact]
    public void Weighted_mean_weights_each_upload_by_its_share()
    {
        using var scope = torch.NewDisposeScope();
        var a = new Update(UpdateKind.Gradient, [("w", torch.tensor(new double[] { 1, 2 }))]);
        var b = new Update(UpdateKind.Gradient, [("w", torch.tensor(new double[] { 4, -1 }))]);

        var mean = Aggregation.WeightedMean([a, b], [1, 3]);

        Assert.Equal([3.25, -0.25], mean["w"].data<double>().ToArray());
        Assert.Same(a, Aggregation.WeightedMean([a], [5]));
        Assert.Throws<ArgumentException>(() => Aggregation.WeightedMean([], []));
    }
}
