using System.Security.Cryptography;
using DefenseBench.Defenses.SecureAggregation;

namespace DefenseBench.Defenses.Tests.SecureAggregation;

/// <summary>The client's refusals and the share encryption's bindings, driven message by message.</summary>
public sealed class ClientTests
{
    /// <summary>Three clients, all neighbours, t = 2, through the masked-input round.</summary>
    private sealed class ThreeClients : IDisposable
    {
        public ThreeClients()
        {
            var graph = NeighbourGraph.Complete(3);
            Server = new SecAggServer(graph, 2, Protocol.R32, 4);
            Clients = Enumerable.Range(0, 3).Select(u => new SecAggClient(u, graph.Of(u), 2, SecretSource.Deterministic($"client {u}"))).ToArray();
            foreach (var c in Clients) Server.ReceiveKeys(c.Advertise());
            foreach (var c in Clients)
            {
                Sealed[c.Id] = c.ShareKeys(Server.KeysFor(c.Id));
                Server.ReceiveShares(c.Id, Sealed[c.Id]);
            }
            foreach (var c in Clients) Server.ReceiveMaskedInput(c.Id, c.MaskedInput(new ulong[] { 1, 2, 3, 4 }, Server.SharesFor(c.Id), Protocol.R32));
        }

        public SecAggServer Server { get; }
        public SecAggClient[] Clients { get; }
        public Dictionary<int, IReadOnlyList<SealedShares>> Sealed { get; } = [];

        public void Dispose()
        {
            foreach (var c in Clients) c.Dispose();
        }
    }

    [Fact]
    public void A_client_answers_the_unmask_request_only_once()
    {
        using var round = new ThreeClients();
        round.Clients[0].Unmask(round.Server.UnmaskRequest());

        // A second request that calls client 1 dropped would ask for its mask key after its self-mask seed share.
        var e = Assert.Throws<SecAggRefusedException>(() => round.Clients[0].Unmask(new UnmaskRequest(new HashSet<int> { 0, 2 })));

        Assert.Contains("already answered", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_that_sent_its_input_refuses_a_request_that_calls_it_dropped()
    {
        using var round = new ThreeClients();

        Assert.Throws<SecAggRefusedException>(() => round.Clients[0].Unmask(new UnmaskRequest(new HashSet<int> { 1, 2 })));
    }

    [Fact]
    public void Unmasking_the_three_inputs_gives_their_sum()
    {
        using var round = new ThreeClients();
        foreach (var c in round.Clients) round.Server.ReceiveUnmask(c.Unmask(round.Server.UnmaskRequest()));

        Assert.Equal(new ulong[] { 3, 6, 9, 12 }, round.Server.Unmask());
    }

    [Fact]
    public void Shares_rerouted_to_another_client_fail_to_open()
    {
        using var round = new ThreeClients();
        var forOne = round.Sealed[0].Single(s => s.Receiver == 1);
        var relabelled = forOne with { Receiver = 2 };

        // Client 2 derives the key it shares with client 0, which is not the key the shares were sealed under.
        Assert.ThrowsAny<CryptographicException>(() => round.Clients[2].MaskedInput(new ulong[4], [relabelled], Protocol.R32));
    }

    [Fact]
    public void Shares_whose_sender_label_was_changed_fail_to_open()
    {
        using var key = KeyPair.Generate(SecretSource.Deterministic("k"));
        var aead = new byte[32];
        var bundle = new ShareBundle(0, 1, new Share(2, 5), new Share(2, 6));
        var sealedShares = ShareCipher.Seal(aead, bundle, SecretSource.Deterministic("nonce"));

        Assert.Equal(bundle, ShareCipher.Open(aead, sealedShares, 1));
        Assert.ThrowsAny<CryptographicException>(() => ShareCipher.Open(aead, sealedShares with { Sender = 2 }, 1));
        Assert.Throws<SecAggRefusedException>(() => ShareCipher.Open(aead, sealedShares, 2));
        var tampered = sealedShares with { Ciphertext = sealedShares.Ciphertext.ToArray() };
        tampered.Ciphertext[10] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => ShareCipher.Open(aead, tampered, 1));
    }
}
