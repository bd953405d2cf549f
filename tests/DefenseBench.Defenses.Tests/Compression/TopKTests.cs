using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Defenses.Tests.Compression;

public sealed class TopKTests
{
    private static readonly (string Name, long[] Shape)[] Layout =
        [("conv.weight", [2, 1, 3, 3]), ("conv.bias", [2]), ("fc.weight", [3, 6]), ("fc.bias", [3])];

    /// <summary>An upload of the layout above with values from <paramref name="rng"/> (distinct magnitudes with probability 1).</summary>
    private static Update Random(Rng rng, UpdateKind kind = UpdateKind.Gradient) => TestUpdates.Random(rng, 1.0, kind, Layout);

    private static Update Zero() => new(UpdateKind.Gradient, Layout.Select(l => (l.Name, torch.zeros(l.Shape))));

    private static float[] Values(Tensor t) => TestUpdates.Values(t);

    private static bool BitIdentical(Update a, Update b) => TestUpdates.BitIdentical(a, b);

    private static Update Apply(TopK topK, Update update) => topK.Open(0).Apply(update, new Rng(1));

    /// <summary>Indices of the k largest |values|, ties to the lower index.</summary>
    private static HashSet<int> Largest(float[] values, long k) =>
        [.. values.Select((v, i) => (Abs: Math.Abs(v), Index: i)).OrderByDescending(p => p.Abs).ThenBy(p => p.Index).Take((int)k).Select(p => p.Index)];

    /// <summary>Kept entries are exactly the expected ones, with unchanged values; all others are exactly zero.</summary>
    private static void AssertKeeps(float[] input, float[] output, HashSet<int> kept, string what)
    {
        Assert.Equal(input.Length, output.Length);
        for (int i = 0; i < input.Length; i++)
        {
            if (kept.Contains(i)) Assert.True(BitConverter.SingleToInt32Bits(input[i]) == BitConverter.SingleToInt32Bits(output[i]), $"{what}[{i}] changed");
            else Assert.True(output[i] == 0, $"{what}[{i}] = {output[i]} should be 0");
        }
    }

    public static TheoryData<TopKScope, bool> Scopes => new()
    {
        { TopKScope.Layer, false }, { TopKScope.Layer, true },
        { TopKScope.Global, false }, { TopKScope.Global, true },
        { TopKScope.LastLayer, false }, { TopKScope.LastLayer, true },
    };

    [Theory]
    [MemberData(nameof(Scopes))]
    public void Keep_of_one_returns_the_upload_bit_for_bit(TopKScope scope, bool ef)
    {
        using var d = torch.NewDisposeScope();
        var rng = new Rng(2);
        var session = DefenseCatalog.TopK(1.0, scope, ef).Open(0);

        for (int round = 0; round < 3; round++)
        {
            var upload = Random(rng, UpdateKind.WeightDelta);
            var expected = upload.Clone();
            Assert.True(BitIdentical(expected, session.Apply(upload, rng)));
        }
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.3)]
    [InlineData(0.1)]
    [InlineData(0.01)]
    public void Layer_scope_keeps_the_largest_ceil_keep_n_of_each_tensor(double keep)
    {
        using var d = torch.NewDisposeScope();
        var upload = Random(new Rng(3));

        var sent = Apply(DefenseCatalog.TopK(keep, TopKScope.Layer, false), upload);

        foreach (var name in upload.Names)
        {
            var input = Values(upload[name]);
            long k = Math.Max(1, (long)Math.Ceiling(keep * input.Length - 1e-9));
            var output = Values(sent[name]);
            Assert.Equal(upload[name].shape, sent[name].shape);
            AssertKeeps(input, output, Largest(input, k), name);
            Assert.Equal(k, output.Count(v => v != 0));
        }
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.2)]
    [InlineData(0.05)]
    public void Global_scope_ranks_all_tensors_together(double keep)
    {
        using var d = torch.NewDisposeScope();
        var upload = Random(new Rng(4));
        // Make the fc bias large so a global ranking favours it over a per-tensor one.
        upload = upload.Map((name, t) => name == "fc.bias" ? t * 10 : t);

        var sent = Apply(DefenseCatalog.TopK(keep, TopKScope.Global, false), upload);

        var input = upload.Tensors.SelectMany(Values).ToArray();
        var output = sent.Tensors.SelectMany(Values).ToArray();
        long k = Math.Max(1, (long)Math.Ceiling(keep * input.Length - 1e-9));
        AssertKeeps(input, output, Largest(input, k), "flat");
        Assert.Equal(k, output.Count(v => v != 0));
        Assert.All(Values(sent["fc.bias"]), v => Assert.NotEqual(0f, v));
    }

    [Fact]
    public void Ties_go_to_the_lower_index()
    {
        using var d = torch.NewDisposeScope();
        var upload = new Update(UpdateKind.Gradient, [("fc.weight", torch.tensor(new float[] { 1, -1, 1, -1 }))]);

        var sent = Apply(DefenseCatalog.TopK(0.5, TopKScope.Layer, false), upload);

        Assert.Equal([1f, -1f, 0f, 0f], Values(sent["fc.weight"]));
    }

    [Fact]
    public void Global_ties_go_to_the_earlier_tensor()
    {
        using var d = torch.NewDisposeScope();
        var upload = new Update(UpdateKind.Gradient,
            [("conv.weight", torch.tensor(new float[] { 0.5f, 2 })), ("fc.weight", torch.tensor(new float[] { 2, 0.5f })), ("fc.bias", torch.tensor(new float[] { 2, -2 }))]);

        var sent = Apply(DefenseCatalog.TopK(0.5, TopKScope.Global, false), upload);

        Assert.Equal([0f, 2f], Values(sent["conv.weight"]));
        Assert.Equal([2f, 0f], Values(sent["fc.weight"]));
        Assert.Equal([2f, 0f], Values(sent["fc.bias"]));
    }

    [Fact]
    public void Last_layer_scope_sparsifies_only_the_fc_weight_and_bias_each_on_its_own()
    {
        using var d = torch.NewDisposeScope();
        var upload = Random(new Rng(5));
        // A global ranking would spend every slot on the huge fc.weight; the bias must still keep its own top entry.
        upload = upload.Map((name, t) => name == "fc.weight" ? t * 100 : t);

        var sent = Apply(DefenseCatalog.TopK(0.25, TopKScope.LastLayer, false), upload);

        Assert.Equal(Values(upload["conv.weight"]), Values(sent["conv.weight"]));
        Assert.Equal(Values(upload["conv.bias"]), Values(sent["conv.bias"]));
        foreach (var (name, n) in new[] { ("fc.weight", 18), ("fc.bias", 3) })
        {
            long k = (long)Math.Ceiling(0.25 * n);
            AssertKeeps(Values(upload[name]), Values(sent[name]), Largest(Values(upload[name]), k), name);
            Assert.Equal(k, Values(sent[name]).Count(v => v != 0));
        }
    }

    [Theory]
    [InlineData(0.1, 10, 1)]
    [InlineData(0.1, 11, 2)]
    [InlineData(0.3, 10, 3)]
    [InlineData(0.7, 10, 7)]
    [InlineData(0.001, 5, 1)]
    [InlineData(1.0, 42, 42)]
    [InlineData(0.5, 1, 1)]
    public void Kept_count_is_ceil_of_keep_times_n_and_at_least_one(double keep, long n, long expected)
    {
        Assert.Equal(expected, TopKSelection.KeptCount(keep, n));
    }

    [Fact]
    public void Kind_and_names_survive_sparsification()
    {
        using var d = torch.NewDisposeScope();
        var upload = Random(new Rng(6), UpdateKind.WeightDelta);

        var sent = Apply(DefenseCatalog.TopK(0.1, TopKScope.Global, true), upload);

        Assert.Equal(UpdateKind.WeightDelta, sent.Kind);
        Assert.Equal(upload.Names, sent.Names);
    }

    [Theory]
    [MemberData(nameof(Scopes))]
    public void The_input_update_is_never_modified(TopKScope scope, bool ef)
    {
        using var d = torch.NewDisposeScope();
        var rng = new Rng(7);
        var session = DefenseCatalog.TopK(0.2, scope, ef).Open(0);

        for (int round = 0; round < 3; round++)
        {
            var upload = Random(rng);
            var before = upload.Clone();
            var sent = session.Apply(upload, rng);
            Assert.True(BitIdentical(before, upload), $"round {round} changed its input");
            // And the output does not alias the input: changing it leaves the input alone.
            foreach (var t in sent.Tensors) t.add_(1);
            Assert.True(BitIdentical(before, upload) || scope == TopKScope.LastLayer, $"round {round}: output aliases input");
        }
    }

    [Fact]
    public void Error_feedback_adds_what_was_withheld_to_the_next_upload()
    {
        using var d = torch.NewDisposeScope();
        static Update One(params float[] v) => new(UpdateKind.Gradient, [("fc.weight", torch.tensor(v))]);
        var withEf = DefenseCatalog.TopK(0.5, TopKScope.Layer, true).Open(0);
        var withoutEf = DefenseCatalog.TopK(0.5, TopKScope.Layer, false).Open(0);
        var rng = new Rng(8);

        Assert.Equal([4f, 3f, 0f, 0f], Values(withEf.Apply(One(4, 3, 2, 1), rng)["fc.weight"]));
        Assert.Equal([0f, 0f, 2f, 1.5f], Values(withEf.Apply(One(0, 0, 0, 0.5f), rng)["fc.weight"]));
        Assert.Equal([0f, 0f, 0f, 0f], Values(withEf.Apply(One(0, 0, 0, 0), rng)["fc.weight"]));

        Assert.Equal([4f, 3f, 0f, 0f], Values(withoutEf.Apply(One(4, 3, 2, 1), rng)["fc.weight"]));
        Assert.Equal([0.5f, 0f, 0f, 0f], Values(withoutEf.Apply(One(0.5f, 0, 0, 0), rng)["fc.weight"]));
    }

    /// <summary>
    /// Property: with error feedback nothing is lost. The residual is private to the session, so it is read out by
    /// sending zero uploads until everything withheld has gone out (each round sends at least ⌈keep·n⌉ of the at most n
    /// withheld entries, so ⌈1/keep⌉ rounds suffice); then Σ sent equals Σ uploads.
    /// </summary>
    [Theory]
    [InlineData(TopKScope.Layer, 0.25, 11u)]
    [InlineData(TopKScope.Layer, 0.1, 12u)]
    [InlineData(TopKScope.Global, 0.2, 13u)]
    [InlineData(TopKScope.Global, 0.05, 14u)]
    [InlineData(TopKScope.LastLayer, 0.3, 15u)]
    public void Error_feedback_eventually_sends_the_sum_of_all_uploads(TopKScope scope, double keep, uint seed)
    {
        using var d = torch.NewDisposeScope();
        var rng = new Rng(seed);
        var session = DefenseCatalog.TopK(keep, scope, true).Open(3);
        var uploaded = Zero();
        var sent = Zero();
        int rounds = 2 + rng.NextInt(5);

        for (int round = 0; round < rounds; round++)
        {
            var upload = Random(rng);
            uploaded = uploaded.Map((name, t) => t + upload[name]);
            var out_ = session.Apply(upload, rng);
            sent = sent.Map((name, t) => t + out_[name]);
        }
        var sentBeforeFlush = sent;
        int flush = (int)Math.Ceiling(1 / keep);
        for (int round = 0; round < flush; round++)
        {
            var out_ = session.Apply(Zero(), rng);
            sent = sent.Map((name, t) => t + out_[name]);
        }

        foreach (var name in uploaded.Names)
            Assert.True(torch.allclose(sent[name], uploaded[name], rtol: 0, atol: 1e-5), $"{name}: Σ sent ≠ Σ uploaded");
        // The flush really carried something (except under last-layer scope, where only the FC layer withholds).
        Assert.False(torch.allclose(sentBeforeFlush["fc.weight"], uploaded["fc.weight"], rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Without_error_feedback_nothing_is_carried_between_rounds()
    {
        using var d = torch.NewDisposeScope();
        var rng = new Rng(16);
        var session = DefenseCatalog.TopK(0.2, TopKScope.Layer, false).Open(0);

        for (int round = 0; round < 3; round++) session.Apply(Random(rng), rng);
        var last = Random(rng);

        Assert.True(BitIdentical(Apply(DefenseCatalog.TopK(0.2, TopKScope.Layer, false), last), session.Apply(last, rng)));
        Assert.True(BitIdentical(Zero(), session.Apply(Zero(), rng)));
    }

    [Fact]
    public void Each_client_session_keeps_its_own_residual()
    {
        using var d = torch.NewDisposeScope();
        var topK = DefenseCatalog.TopK(0.2, TopKScope.Layer, true);
        var rng = new Rng(17);
        var first = topK.Open(0);
        var second = topK.Open(1);

        first.Apply(Random(rng), rng);
        var upload = Random(rng);

        Assert.True(BitIdentical(Apply(topK, upload), second.Apply(upload, rng)));
    }

    [Theory]
    [InlineData(0.1, TopKScope.Layer, false, "topk(keep=0.1,scope=layer,ef=off)")]
    [InlineData(0.5, TopKScope.Global, true, "topk(keep=0.5,scope=global,ef=on)")]
    [InlineData(1.0, TopKScope.LastLayer, false, "topk(keep=1,scope=last-layer,ef=off)")]
    [InlineData(0.025, TopKScope.Layer, true, "topk(keep=0.025,scope=layer,ef=on)")]
    public void Canonical_names_spell_out_every_parameter(double keep, TopKScope scope, bool ef, string canonical)
    {
        Assert.Equal(canonical, DefenseCatalog.TopK(keep, scope, ef).Canonical);
    }

    [Fact]
    public void The_catalog_creates_top_k_from_parameter_values()
    {
        var info = DefenseCatalog.All.Get("topk");
        var given = new Dictionary<string, object>();
        foreach (var (name, text) in new[] { ("keep", "0.5"), ("scope", "Global"), ("ef", "on") })
        {
            Assert.Null(info.Parameters.Single(p => p.Name == name).TryParse(text, out object value));
            given[name] = value;
        }

        var topK = Assert.IsType<TopK>(info.Create(ParameterValues.Create(info.Parameters, given)));

        Assert.Equal(0.5, topK.Keep);
        Assert.Equal(TopKScope.Global, topK.Scope);
        Assert.True(topK.ErrorFeedback);
        Assert.Equal("topk(keep=0.5,scope=global,ef=on)", topK.Canonical);
        Assert.Equal("topk(keep=0.1,scope=layer,ef=off)", info.CreateDefault().Canonical);
        Assert.Equal(TopKScope.LastLayer, Assert.IsType<TopK>(info.Create(ParameterValues.Create(info.Parameters,
            new Dictionary<string, object> { ["scope"] = "last-layer" }))).Scope);
    }

    [Fact]
    public void The_catalog_keep_range_is_zero_exclusive_to_one_inclusive()
    {
        var keep = DefenseCatalog.All.Get("topk").Parameters.Single(p => p.Name == "keep");

        Assert.NotNull(keep.TryParse("0", out _));
        Assert.Null(keep.TryParse("1", out _));
        Assert.NotNull(keep.TryParse("1.5", out _));
        Assert.Equal("a number in (0, 1]", keep.Domain);
    }
}
