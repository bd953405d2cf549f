namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>
/// The SecAgg / SecAgg+ server (Bonawitz et al. 2017, Fig. 4): forwards public keys to neighbours, routes encrypted
/// shares it cannot read, sums the masked inputs, and in the unmask round rebuilds from ≥ t shares the self-mask
/// seed of every client whose input arrived and the mask key of every client that dropped after sharing, so it can
/// cancel the masks that do not cancel by themselves. It learns the sum of the surviving inputs and nothing per client.
/// </summary>
public sealed class SecAggServer(NeighbourGraph graph, int threshold, Modulus modulus, int length)
{
    private readonly Dictionary<int, Advertisement> _advertised = [];
    private readonly Dictionary<int, List<SealedShares>> _mailboxes = [];
    private readonly HashSet<int> _shared = [];
    private readonly Dictionary<int, ulong[]> _masked = [];
    private readonly List<RevealedShare> _revealed = [];
    private readonly Lock _gate = new();

    /// <summary>U3: the clients whose masked input arrived, ascending.</summary>
    public IReadOnlyList<int> Survivors => _masked.Keys.Order().ToArray();

    /// <summary>The masked inputs received, by client.</summary>
    public IReadOnlyDictionary<int, ulong[]> MaskedInputs => _masked;

    /// <summary>Every share revealed to the server so far (for the never-both-secrets audit).</summary>
    public IReadOnlyList<RevealedShare> Revealed => _revealed;

    public void ReceiveKeys(Advertisement advertisement)
    {
        lock (_gate) _advertised[advertisement.Client] = advertisement;
    }

    /// <summary>The public keys of <paramref name="client"/>'s neighbours that advertised.</summary>
    public IReadOnlyDictionary<int, Advertisement> KeysFor(int client)
    {
        lock (_gate) return graph.Of(client).Where(_advertised.ContainsKey).ToDictionary(v => v, v => _advertised[v]);
    }

    public void ReceiveShares(int client, IReadOnlyList<SealedShares> shares)
    {
        lock (_gate)
        {
            if (!_advertised.ContainsKey(client)) throw new InvalidOperationException($"client {client} shared keys without advertising any");
            foreach (var s in shares)
            {
                if (s.Sender != client || !graph.AreNeighbours(client, s.Receiver))
                    throw new InvalidOperationException($"client {client} sent shares labelled {s.Sender} → {s.Receiver}");
                if (!_mailboxes.TryGetValue(s.Receiver, out var box)) _mailboxes[s.Receiver] = box = [];
                box.Add(s);
            }
            _shared.Add(client);
        }
    }

    /// <summary>The encrypted shares addressed to <paramref name="client"/> by neighbours that completed the share round.</summary>
    public IReadOnlyList<SealedShares> SharesFor(int client)
    {
        lock (_gate) return _mailboxes.GetValueOrDefault(client, []).Where(s => _shared.Contains(s.Sender)).ToArray();
    }

    public void ReceiveMaskedInput(int client, ulong[] masked)
    {
        if (masked.Length != length) throw new ArgumentException($"client {client} sent {masked.Length} values, expected {length}", nameof(masked));
        lock (_gate)
        {
            if (!_shared.Contains(client)) throw new InvalidOperationException($"client {client} sent a masked input without sharing its keys");
            _masked[client] = masked;
        }
    }

    public UnmaskRequest UnmaskRequest() => new(_masked.Keys.ToHashSet());

    public void ReceiveUnmask(IReadOnlyList<RevealedShare> shares)
    {
        lock (_gate) _revealed.AddRange(shares);
    }

    /// <summary>
    /// Σ_{u ∈ U3} x_u mod R: the masked inputs summed, each survivor's self mask removed, and each dropped client's
    /// pairwise masks with surviving neighbours cancelled. Aborts when some needed secret has fewer than t shares.
    /// </summary>
    public ulong[] Unmask()
    {
        if (_masked.Count == 0) throw new SecAggAbortedException("no masked input arrived");
        var corrections = new List<(byte[] Seed, bool Subtract)>();
        foreach (int u in _shared.Order())
        {
            bool survived = _masked.ContainsKey(u);
            var secret = Rebuild(u, survived ? SecretKind.SelfMaskSeed : SecretKind.MaskKey);
            if (survived)
            {
                corrections.Add((secret, true));
                continue;
            }
            using var key = KeyPair.FromPrivateKey(secret);
            if (!key.Public.Point.X.AsSpan().SequenceEqual(_advertised[u].MaskKey.Point.X))
                throw new InvalidOperationException($"the mask key rebuilt for client {u} does not match its advertised public key");
            // Survivor v added sgn(v, u)·PRG(s_vu) for the dropped u; remove it.
            foreach (int v in graph.Of(u).Where(_masked.ContainsKey))
                corrections.Add((key.Agree(_advertised[v].MaskKey, KeyPurpose.PairwiseMask), v > u));
        }
        var sum = new ulong[length];
        foreach (var masked in _masked.Values) modulus.AddTo(sum, masked);
        Parallel.ForEach(corrections, () => new ulong[length], (c, _, local) =>
        {
            using var prg = new MaskPrg(c.Seed);
            prg.Mask(local, modulus, c.Subtract);
            return local;
        }, local =>
        {
            lock (_gate) modulus.AddTo(sum, local);
        });
        return sum;
    }

    private byte[] Rebuild(int owner, SecretKind kind)
    {
        var shares = _revealed.Where(s => s.Owner == owner && s.Kind == kind).Select(s => s.Share).Take(threshold).ToArray();
        if (shares.Length < threshold)
            throw new SecAggAbortedException(
                $"cannot unmask client {owner}: its {(kind == SecretKind.SelfMaskSeed ? "self-mask seed" : "mask key")} needs t = {threshold} shares " +
                $"and only {shares.Length} of its neighbours answered");
        return Shamir.Combine(shares, kind == SecretKind.SelfMaskSeed ? MaskPrg.KeySize : KeyPair.PrivateKeySize);
    }
}
