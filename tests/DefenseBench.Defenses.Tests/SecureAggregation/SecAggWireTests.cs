using DefenseBench.Defenses.SecureAggregation;

namespace DefenseBench.Defenses.Tests.SecureAggregation;

/// <summary>The byte count of a client's round against the messages a real round produces.</summary>
public sealed class SecAggWireTests
{
    [Theory]
    [InlineData(4, 3, 32)]
    [InlineData(6, 5, 40)]
    public void A_clients_count_is_the_size_of_the_messages_it_sends_in_a_real_round(int clients, int length, int modulusBits)
    {
        var modulus = Modulus.PowerOfTwo(modulusBits);
        var graph = NeighbourGraph.Complete(clients);
        var server = new SecAggServer(graph, 2, modulus, length);
        var members = Enumerable.Range(0, clients).Select(u => new SecAggClient(u, graph.Of(u), 2, SecretSource.Deterministic($"client {u}"))).ToArray();
        try
        {
            var advertisement = members[0].Advertise();
            foreach (var c in members) server.ReceiveKeys(c.Advertise());
            var sealedShares = new Dictionary<int, IReadOnlyList<SealedShares>>();
            foreach (var c in members) server.ReceiveShares(c.Id, sealedShares[c.Id] = c.ShareKeys(server.KeysFor(c.Id)));
            var masked = new ulong[clients][];
            foreach (var c in members) server.ReceiveMaskedInput(c.Id, masked[c.Id] = c.MaskedInput(new ulong[length], server.SharesFor(c.Id), modulus));
            var revealed = members[0].Unmask(server.UnmaskRequest());

            // The messages as SecAggWire encodes them, measured on what client 0 produced.
            var (x, y) = advertisement.EncryptionKey.Point;
            long sent = SecAggWire.IdBytes + 2 * (1 + x.Length + y.Length)
                + sealedShares[0].Sum(s => 2 * SecAggWire.IdBytes + s.Nonce.Length + s.Ciphertext.Length + s.Tag.Length)
                + SecAggWire.IdBytes + masked[0].Length * (long)Math.Ceiling(modulusBits / 8.0)
                + revealed.Count * (2 * SecAggWire.IdBytes + 1 + SecAggWire.IdBytes + Shamir.ElementSize);

            Assert.Equal(clients - 1, sealedShares[0].Count);
            Assert.Equal(clients - 1, revealed.Count);
            Assert.Equal(sent, SecAggWire.ClientBytes(length, clients - 1, modulus));
        }
        finally
        {
            foreach (var c in members) c.Dispose();
        }
    }

    [Theory]
    [InlineData(32, 4)]
    [InlineData(33, 5)]
    [InlineData(8, 1)]
    [InlineData(63, 8)]
    public void A_residue_takes_the_bytes_of_the_modulus_bits(int bits, int bytes) => Assert.Equal(bytes, Modulus.PowerOfTwo(bits).ResidueBytes);

    [Fact]
    public void SecAgg_plus_counts_its_ring_degree_and_secagg_every_other_client()
    {
        var secagg = DefenseCatalog.SecAgg(null, 0.5, 32, 16, 8, 8, 0, DropoutRound.Any);
        var plus = DefenseCatalog.SecAgg(4, 0.5, 32, 16, 8, 8, 0, DropoutRound.Any);
        var modulus = Modulus.PowerOfTwo(32);

        // The FedAvg weight travels as one more residue.
        Assert.Equal(SecAggWire.ClientBytes(101, 19, modulus), secagg.ClientBytes(100, 20));
        Assert.Equal(SecAggWire.ClientBytes(101, 4, modulus), plus.ClientBytes(100, 20));
        Assert.Equal(SecAggWire.ClientBytes(101, 3, modulus), plus.ClientBytes(100, 4));
    }
}
