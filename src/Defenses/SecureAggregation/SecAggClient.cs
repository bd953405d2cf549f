namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>Round 0's message: a client's two public keys, c_pk for share encryption and s_pk for pairwise masks.</summary>
public sealed record Advertisement(int Client, PublicKey EncryptionKey, PublicKey MaskKey);

/// <summary>Which of an owner's two secrets a share belongs to.</summary>
public enum SecretKind
{
    /// <summary>b_u, whose PRG output is u's self mask: revealed when u's masked input arrived.</summary>
    SelfMaskSeed,

    /// <summary>s_sk_u, from which u's pairwise masks follow: revealed when u dropped before its masked input.</summary>
    MaskKey,
}

/// <summary>A share one holder reveals in the unmask round.</summary>
public sealed record RevealedShare(int Owner, int Holder, SecretKind Kind, Share Share);

/// <summary>The unmask round's request: the clients whose masked input the server received (U3 in Bonawitz et al.).</summary>
public sealed record UnmaskRequest(IReadOnlySet<int> Survivors);

/// <summary>
/// One client of SecAgg / SecAgg+ (Bonawitz et al. 2017, Fig. 4, semi-honest variant; Bell et al. 2020 for
/// neighbourhoods): two key pairs, Shamir shares of its self-mask seed and mask key for its neighbours, the masked
/// input, and the unmask answer, which reveals for each owner either the self-mask seed share or the mask-key share,
/// never both, and is given once.
/// </summary>
public sealed class SecAggClient : IDisposable
{
    private const int SeedSize = MaskPrg.KeySize;

    private readonly KeyPair _encryption;
    private readonly KeyPair _mask;
    private readonly IReadOnlyList<int> _neighbours;
    private readonly int _threshold;
    private readonly SecretSource _source;
    private readonly Dictionary<int, ShareBundle> _held = [];
    private IReadOnlyDictionary<int, Advertisement> _keys = new Dictionary<int, Advertisement>();
    private byte[]? _selfMaskSeed;
    private bool _sentInput;
    private bool _answeredUnmask;

    public SecAggClient(int id, IReadOnlyList<int> neighbours, int threshold, SecretSource source)
    {
        Id = id;
        _neighbours = neighbours;
        _threshold = threshold;
        _source = source;
        _encryption = KeyPair.Generate(source);
        _mask = KeyPair.Generate(source);
    }

    public int Id { get; }

    /// <summary>Round 0: the public keys the server forwards to the neighbours.</summary>
    public Advertisement Advertise() => new(Id, _encryption.Public, _mask.Public);

    /// <summary>
    /// Round 1: draws the self-mask seed b_u, splits b_u and s_sk_u t-of-k among the neighbours that advertised keys,
    /// and encrypts each neighbour's pair of shares for it. Aborts when fewer than t neighbours are left.
    /// </summary>
    public IReadOnlyList<SealedShares> ShareKeys(IReadOnlyDictionary<int, Advertisement> neighbourKeys)
    {
        _keys = neighbourKeys;
        var holders = _neighbours.Where(neighbourKeys.ContainsKey).ToArray();
        if (holders.Length < _threshold)
            throw new SecAggAbortedException($"client {Id} can share its secrets with only {holders.Length} neighbours; the threshold is t = {_threshold}");
        _selfMaskSeed = _source.Bytes(SeedSize);
        var points = holders.Select(v => v + 1).ToArray();
        var seedShares = Shamir.Split(_selfMaskSeed, _threshold, points, _source);
        var keyShares = Shamir.Split(_mask.ExportPrivateKey(), _threshold, points, _source);
        return holders.Select((v, i) => ShareCipher.Seal(
            _encryption.Agree(neighbourKeys[v].EncryptionKey, KeyPurpose.ShareEncryption),
            new ShareBundle(Id, v, seedShares[i], keyShares[i]), _source)).ToArray();
    }

    /// <summary>
    /// Round 2: opens the shares the neighbours sent, then y_u = x_u + PRG(b_u) + Σ_v sgn(u, v)·PRG(s_uv) mod R over
    /// those neighbours, with sgn(u, v) = +1 if u &gt; v else −1 so each pair's masks cancel in the sum.
    /// </summary>
    public ulong[] MaskedInput(ReadOnlySpan<ulong> input, IReadOnlyList<SealedShares> received, Modulus modulus)
    {
        if (_selfMaskSeed == null) throw new InvalidOperationException("share keys before sending a masked input");
        foreach (var sealedShares in received)
        {
            if (!_keys.TryGetValue(sealedShares.Sender, out var sender))
                throw new SecAggRefusedException($"client {Id} got shares from {sealedShares.Sender}, which is not a neighbour that advertised keys");
            var key = _encryption.Agree(sender.EncryptionKey, KeyPurpose.ShareEncryption);
            _held[sealedShares.Sender] = ShareCipher.Open(key, sealedShares, Id);
        }
        if (_held.Count < _threshold)
            throw new SecAggAbortedException($"only {_held.Count} neighbours of client {Id} shared their keys; the threshold is t = {_threshold}");
        var masked = input.ToArray();
        using (var self = new MaskPrg(_selfMaskSeed)) self.Mask(masked, modulus);
        foreach (int v in _held.Keys)
        {
            using var pairwise = new MaskPrg(_mask.Agree(_keys[v].MaskKey, KeyPurpose.PairwiseMask));
            pairwise.Mask(masked, modulus, subtract: Id < v);
        }
        _sentInput = true;
        return masked;
    }

    /// <summary>
    /// Round 3: for every owner whose shares this client holds, the self-mask seed share if the owner's masked input
    /// arrived, else the mask-key share. Answered once per round; a request that calls this client dropped although
    /// it sent its input is refused.
    /// </summary>
    public IReadOnlyList<RevealedShare> Unmask(UnmaskRequest request)
    {
        if (_answeredUnmask)
            throw new SecAggRefusedException($"client {Id} already answered this round's unmask request; a second answer could reveal the other secret of an owner");
        if (_sentInput && !request.Survivors.Contains(Id))
            throw new SecAggRefusedException($"client {Id} sent its masked input, yet the unmask request lists it as dropped");
        _answeredUnmask = true;
        return _held.Values.Select(bundle => request.Survivors.Contains(bundle.Owner)
            ? new RevealedShare(bundle.Owner, Id, SecretKind.SelfMaskSeed, bundle.SelfMaskSeed)
            : new RevealedShare(bundle.Owner, Id, SecretKind.MaskKey, bundle.MaskKey)).ToArray();
    }

    public void Dispose()
    {
        _encryption.Dispose();
        _mask.Dispose();
    }
}
