using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.SecureAggregation;

namespace DefenseBench.Defenses.Tests.SecureAggregation;

public sealed class SecAggRoundTests
{
    private static SecretSource Secrets(string label) => SecretSource.Deterministic(label);

    public static TheoryData<string, int, int> Graphs => new()
    {
        { "complete", 7, 4 },
        { "ring", 16, 3 },
    };

    private static NeighbourGraph Graph(string kind, int clients, int seed = 1) =>
        kind == "complete" ? NeighbourGraph.Complete(clients) : NeighbourGraph.Ring(clients, 6, new Rng((ulong)seed));

    [Theory]
    [MemberData(nameof(Graphs))]
    public void Masks_cancel_exactly_without_dropouts(string kind, int clients, int threshold)
    {
        var inputs = Protocol.Inputs(clients, 500, 1UL << 32, seed: clients);

        var outcome = SecAggRound.Run(inputs, Graph(kind, clients), threshold, Protocol.R32, Protocol.NoDropouts(clients), Secrets(kind));

        Assert.Equal(Protocol.PlainSum(inputs, Protocol.R32, 500), outcome.Sum);
        Assert.Equal(Enumerable.Range(0, clients), outcome.Survivors);
    }

    [Fact]
    public void Masks_cancel_in_a_modulus_that_is_not_a_power_of_two()
    {
        var modulus = new Modulus(1_000_003);
        var inputs = Protocol.Inputs(6, 300, modulus.R, seed: 4);

        var outcome = SecAggRound.Run(inputs, NeighbourGraph.Complete(6), 3, modulus, Protocol.NoDropouts(6), Secrets("prime"));

        Assert.Equal(Protocol.PlainSum(inputs, modulus, 300), outcome.Sum);
    }

    [Theory]
    [InlineData(DropoutPhase.AdvertiseKeys)]
    [InlineData(DropoutPhase.ShareKeys)]
    [InlineData(DropoutPhase.MaskedInput)]
    [InlineData(DropoutPhase.Unmask)]
    [InlineData(DropoutPhase.None)] // None here means: each dropped client picks its own phase
    public void Up_to_k_minus_t_dropped_neighbours_leave_the_exact_sum_of_the_survivors(DropoutPhase phase)
    {
        const int clients = 16, threshold = 3, length = 200;
        for (int trial = 0; trial < 4; trial++)
        {
            var rng = Rng.For(7, phase, trial);
            var graph = NeighbourGraph.Ring(clients, 6, rng);
            var plan = Protocol.Tolerable(graph, threshold, most: 6, r => phase == DropoutPhase.None ? Protocol.AnyPhase(r) : phase, rng);
            var inputs = Protocol.Inputs(clients, length, 1UL << 32, seed: trial);

            var outcome = SecAggRound.Run(inputs, graph, threshold, Protocol.R32, plan, Secrets($"{phase} {trial}"));

            // Inputs count when they were sent: clients that left in the unmask round still count.
            var survivors = Enumerable.Range(0, clients).Where(u => plan[u] is DropoutPhase.None or DropoutPhase.Unmask).ToArray();
            Assert.True(plan.Count(p => p != DropoutPhase.None) >= 3, "the plan should drop several clients");
            Assert.Equal(survivors, outcome.Survivors);
            Assert.Equal(Protocol.PlainSum(survivors.Select(u => inputs[u]), Protocol.R32, length), outcome.Sum);
        }
    }

    [Theory]
    [InlineData(DropoutPhase.AdvertiseKeys, "client 0 can share its secrets with only 2 neighbours; the threshold is t = 3")]
    [InlineData(DropoutPhase.ShareKeys, "only 2 neighbours of client 0 shared their keys; the threshold is t = 3")]
    [InlineData(DropoutPhase.Unmask, "cannot unmask client 0: its self-mask seed needs t = 3 shares and only 2 of its neighbours answered")]
    public void Fewer_than_t_surviving_neighbours_abort_the_round(DropoutPhase phase, string message)
    {
        const int clients = 8, threshold = 3;
        var graph = NeighbourGraph.Ring(clients, 4, new Rng(3));
        var plan = Protocol.NoDropouts(clients);
        foreach (int v in graph.Of(0).Take(graph.Of(0).Count - threshold + 1)) plan[v] = phase;

        var e = Assert.Throws<SecAggAbortedException>(() =>
            SecAggRound.Run(Protocol.Inputs(clients, 10, 100, seed: 1), graph, threshold, Protocol.R32, plan, Secrets("abort")));

        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void A_dropped_client_whose_mask_key_cannot_be_rebuilt_aborts_the_round()
    {
        const int clients = 8, threshold = 3;
        var graph = NeighbourGraph.Ring(clients, 4, new Rng(3));
        var plan = Protocol.NoDropouts(clients);
        plan[0] = DropoutPhase.MaskedInput;
        foreach (int v in graph.Of(0).Take(2)) plan[v] = DropoutPhase.Unmask;

        var e = Assert.Throws<SecAggAbortedException>(() =>
            SecAggRound.Run(Protocol.Inputs(clients, 10, 100, seed: 1), graph, threshold, Protocol.R32, plan, Secrets("mask key")));

        Assert.Equal("cannot unmask client 0: its mask key needs t = 3 shares and only 2 of its neighbours answered", e.Message);
    }

    [Fact]
    public void A_single_masked_upload_looks_uniform_while_its_plain_input_does_not()
    {
        // Quantised small gradients: codes near Q/2 = 2^21, so the top byte is always zero.
        var quantizer = new Quantizer(8, 22);
        var rng = new Rng(11);
        var inputs = Enumerable.Range(0, 4)
            .Select(_ => Enumerable.Range(0, 25_000).Select(_ => quantizer.Encode(0.01 * rng.NextGaussian(), rng)).ToArray())
            .ToArray();

        var outcome = SecAggRound.Run(inputs, NeighbourGraph.Complete(4), 2, Protocol.R32, Protocol.NoDropouts(4), Secrets("uniform"));

        // χ² with 255 degrees of freedom: 341 is its 99.99th percentile.
        Assert.InRange(Protocol.ByteChiSquare(outcome.MaskedInputs[0], 4), 0, 341);
        Assert.True(Protocol.ByteChiSquare(inputs[0], 4) > 100 * 341);
    }

    [Fact]
    public void No_unmask_answer_ever_reveals_both_secrets_of_one_client()
    {
        const int clients = 16, threshold = 3;
        for (int trial = 0; trial < 20; trial++)
        {
            var rng = Rng.For(13, trial);
            var graph = NeighbourGraph.Ring(clients, 6, rng);
            var plan = Protocol.Tolerable(graph, threshold, most: 1 + trial % 6, Protocol.AnyPhase, rng);

            var outcome = SecAggRound.Run(Protocol.Inputs(clients, 8, 1000, trial), graph, threshold, Protocol.R32, plan, Secrets($"audit {trial}"));

            foreach (var owner in outcome.Revealed.GroupBy(s => s.Owner))
            {
                var kind = Assert.Single(owner.Select(s => s.Kind).Distinct());
                Assert.Equal(outcome.Survivors.Contains(owner.Key) ? SecretKind.SelfMaskSeed : SecretKind.MaskKey, kind);
            }
        }
    }

    [Fact]
    public void The_same_secrets_give_the_same_transcript()
    {
        var inputs = Protocol.Inputs(5, 50, 1000, seed: 2);

        var first = SecAggRound.Run(inputs, NeighbourGraph.Complete(5), 3, Protocol.R32, Protocol.NoDropouts(5), Secrets("same"));
        var second = SecAggRound.Run(inputs, NeighbourGraph.Complete(5), 3, Protocol.R32, Protocol.NoDropouts(5), Secrets("same"));
        var other = SecAggRound.Run(inputs, NeighbourGraph.Complete(5), 3, Protocol.R32, Protocol.NoDropouts(5), Secrets("other"));

        Assert.Equal(first.MaskedInputs[2], second.MaskedInputs[2]);
        Assert.NotEqual(first.MaskedInputs[2], other.MaskedInputs[2]);
        Assert.Equal(first.Sum, other.Sum);
    }
}
