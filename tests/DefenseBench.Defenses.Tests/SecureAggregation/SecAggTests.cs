using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.SecureAggregation;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Defenses.Tests.SecureAggregation;

/// <summary>SecAgg and SecAgg+ as the harness uses them: updates in, the decoded weighted mean out.</summary>
public sealed class SecAggTests
{
    private static SecAgg Create(string id, params (string Name, object Value)[] values) =>
        (SecAgg)DefenseCatalog.All.Get(id).Create(ParameterValues.Create(DefenseCatalog.All.Get(id).Parameters, values.ToDictionary(v => v.Name, v => v.Value)));

    private static Update[] Uploads(int clients, int seed)
    {
        var generator = new Generator((ulong)seed, torch.CPU);
        return Enumerable.Range(0, clients).Select(_ => new Update(UpdateKind.Gradient,
        [
            ("conv.weight", torch.randn([6, 3, 5], generator: generator) * 0.1),
            ("fc.weight", torch.randn([10, 20], generator: generator) * 0.01),
            ("fc.bias", torch.randn([10], generator: generator) * 0.01),
        ])).ToArray();
    }

    private static double[] Flat(Update u) => UpdateVectors.Flatten(u).Select(v => (double)v).ToArray();

    private static double[] PlainMean(IReadOnlyList<Update> uploads, IReadOnlyList<double> weights, IEnumerable<int> among)
    {
        var members = among.ToArray();
        var mean = new double[uploads[0].ElementCount];
        double total = members.Sum(k => weights[k]);
        foreach (int k in members)
        {
            var x = Flat(uploads[k]);
            for (int i = 0; i < mean.Length; i++) mean[i] += weights[k] * x[i] / total;
        }
        return mean;
    }

    /// <summary>Quantisation error bound of the decoded mean: n·Δ on the weighted sum and on the total weight.</summary>
    private static double Bound(SecAgg secAgg, int clients, double totalWeight, double value)
    {
        double step = new Quantizer(secAgg.Clip, secAgg.QuantBits).Step;
        double w = totalWeight / secAgg.MaxWeight;
        return clients * step * (1 + Math.Abs(value)) / (w - clients * step);
    }

    private static void AssertMean(SecAgg secAgg, Update aggregate, double[] expected, int clients, double totalWeight)
    {
        var actual = Flat(aggregate);
        for (int i = 0; i < expected.Length; i++)
            Assert.InRange(actual[i], expected[i] - Bound(secAgg, clients, totalWeight, expected[i]), expected[i] + Bound(secAgg, clients, totalWeight, expected[i]));
    }

    [Theory]
    [InlineData("secagg")]
    [InlineData("secagg-plus")]
    public void The_aggregate_is_the_weighted_mean_up_to_quantisation(string id)
    {
        using var scope = torch.NewDisposeScope();
        var secAgg = Create(id);
        var uploads = Uploads(12, 1);
        double[] weights = [4, 8, 16, 2, 7, 1, 64, 32, 5, 9, 3, 11];

        var aggregate = secAgg.Aggregate(uploads, weights, new Rng(1)).Update;

        Assert.Equal(uploads[0].Names, aggregate.Names);
        Assert.All(aggregate.Names, n => Assert.Equal(uploads[0][n].shape, aggregate[n].shape));
        Assert.Equal(ScalarType.Float32, aggregate["fc.bias"].dtype);
        AssertMean(secAgg, aggregate, PlainMean(uploads, weights, Enumerable.Range(0, 12)), 12, weights.Sum());
    }

    [Fact]
    public void Under_secure_aggregation_the_server_sees_no_individual_upload()
    {
        using var scope = torch.NewDisposeScope();
        var uploads = Uploads(3, 2);
        var model = Core.Models.ModelCatalog.Create("fcn3", Core.Data.ImageShape.Mnist, 10, 1, torch.CPU);
        var info = new PublicInfo(10, Core.Data.ImageShape.Mnist, new FedSgd(), [2, 2, 2]);

        var view = DefensePipeline.From([Create("secagg")]).View(model, uploads, info, new Rng(1));

        Assert.False(view.SeesIndividualUpdates);
        Assert.Null(view.ClientUpdates);
        Assert.Equal(uploads[0].Names, view.Aggregate.Names);
    }

    [Fact]
    public void Clients_that_leave_before_their_masked_input_are_left_out_of_the_mean()
    {
        using var scope = torch.NewDisposeScope();
        var secAgg = Create("secagg-plus", ("degree", 4L), ("threshold", 0.5), ("dropout", 0.25), ("dropout_phase", "mask"));
        var uploads = Uploads(8, 3);
        double[] weights = [1, 2, 3, 4, 5, 6, 7, 8];

        var aggregate = Flat(secAgg.Aggregate(uploads, weights, new Rng(4)).Update);

        // Exactly one pair of dropped clients explains the result.
        var pairs = from a in Enumerable.Range(0, 8) from b in Enumerable.Range(a + 1, 7 - a) select (a, b);
        var explaining = pairs.Where(p =>
        {
            var survivors = Enumerable.Range(0, 8).Where(k => k != p.a && k != p.b).ToArray();
            var mean = PlainMean(uploads, weights, survivors);
            return mean.Select((m, i) => Math.Abs(aggregate[i] - m) <= Bound(secAgg, 6, survivors.Sum(k => weights[k]), m)).All(ok => ok);
        }).ToArray();
        Assert.Single(explaining);
    }

    [Fact]
    public void Clients_that_leave_in_the_unmask_round_still_count()
    {
        using var scope = torch.NewDisposeScope();
        var secAgg = Create("secagg", ("dropout", 0.25), ("dropout_phase", "unmask"));
        var uploads = Uploads(8, 5);
        double[] weights = [1, 2, 3, 4, 5, 6, 7, 8];

        var aggregate = secAgg.Aggregate(uploads, weights, new Rng(6)).Update;

        AssertMean(secAgg, aggregate, PlainMean(uploads, weights, Enumerable.Range(0, 8)), 8, weights.Sum());
    }

    [Fact]
    public void Too_many_dropouts_abort_with_the_reason()
    {
        using var scope = torch.NewDisposeScope();
        var secAgg = Create("secagg", ("threshold", 0.9), ("dropout", 0.5), ("dropout_phase", "advertise"));

        var e = Assert.Throws<SecAggAbortedException>(() => secAgg.Aggregate(Uploads(6, 1), [1, 1, 1, 1, 1, 1], new Rng(1)));

        Assert.Contains("the threshold is t = 5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void One_client_cannot_hide_in_an_aggregate()
    {
        using var scope = torch.NewDisposeScope();

        var e = Assert.Throws<NotApplicableException>(() => Create("secagg").Aggregate(Uploads(1, 1), [4], new Rng(1)));

        Assert.Equal("secagg needs at least 2 clients to hide one among them; the scenario has 1", e.Message);
    }

    [Fact]
    public void A_sum_that_would_wrap_around_the_modulus_is_a_clear_error()
    {
        using var scope = torch.NewDisposeScope();
        var secAgg = Create("secagg", ("modulus_bits", 8L), ("quant_bits", 7L));

        var e = Assert.Throws<InvalidOperationException>(() => secAgg.Aggregate(Uploads(3, 1), [1, 1, 1], new Rng(1)));

        Assert.StartsWith("secure aggregation cannot sum 3 inputs: n·(Q − 1) = 3·(2^7 − 1) ≥ R = 2^8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Canonical_names_spell_out_every_parameter()
    {
        Assert.Equal("secagg(threshold=0.6,modulus_bits=32,quant_bits=22,clip=8,max_weight=1000,dropout=0,dropout_phase=mask)", Create("secagg").Canonical);
        Assert.Equal("secagg-plus(degree=4,threshold=0.5,modulus_bits=48,quant_bits=30,clip=1,max_weight=1000,dropout=0.1,dropout_phase=any)",
            Create("secagg-plus", ("degree", 4L), ("threshold", 0.5), ("modulus_bits", 48L), ("quant_bits", 30L), ("clip", 1.0), ("dropout", 0.1), ("dropout_phase", "any")).Canonical);
    }

    [Fact]
    public void An_odd_secagg_plus_degree_is_an_input_error()
    {
        var e = Assert.Throws<InputException>(() => Create("secagg-plus", ("degree", 9L)));

        Assert.Equal("write an even degree", e.Fix);
    }
}
