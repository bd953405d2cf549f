using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Core.Defenses;

/// <summary>A defence as named in the CSV: its canonical string carries every parameter.</summary>
public interface IDefense
{
    /// <summary>e.g. "topk(keep=0.1,scope=layer,ef=off)".</summary>
    string Canonical { get; }
}

/// <summary>A client-side transform of uploads (compression, clipping, noise).</summary>
public interface IClientDefense : IDefense
{
    /// <summary>Starts the defence for one client; the session keeps per-client state such as error-feedback residuals.</summary>
    IClientDefenseSession Open(int client);
}

/// <summary>
/// The public facts of one upload: which client sent it in which FL round (0-based: the attacked round of a round-R
/// cell is R), how many examples each local step drew, and the protocol that computed it.
/// </summary>
public sealed record UploadOrigin(int Client, int Round, int BatchSize, Protocol Protocol);

/// <summary>One client's defence across rounds; disposing it frees state it keeps outside dispose scopes.</summary>
public interface IClientDefenseSession : IDisposable
{
    /// <summary>The defended upload; never modifies <paramref name="upload"/>.</summary>
    Update Apply(Update upload, Rng rng);

    /// <summary>
    /// The same, told where the upload comes from. The harness always calls this one; a defence that hands the upload
    /// to another program (exec) passes the origin on as the file's metadata, every other one ignores it.
    /// </summary>
    Update Apply(Update upload, Rng rng, UploadOrigin origin) => Apply(upload, rng);

    /// <summary>
    /// A session that starts from this one's state (error-feedback residuals) and then evolves on its own: attacks of a
    /// round reached by training each defend their round from the trained state without changing it for the others.
    /// </summary>
    IClientDefenseSession Fork();
}

/// <summary>
/// An aggregation protocol whose clients send something other than their float32 values (secure aggregation sends
/// keys, encrypted shares and a masked vector of residues): it says how many bytes one client sends in one round.
/// </summary>
public interface IWireProtocol
{
    /// <summary>The bytes one of <paramref name="clients"/> clients sends to upload <paramref name="values"/> values, with no dropouts.</summary>
    long ClientBytes(long values, int clients);
}

/// <summary>An aggregation-side defence: after it, the server sees only the aggregate.</summary>
public interface IAggregationDefense : IDefense
{
    /// <summary>
    /// The aggregate the server learns from the uploads (weights: FedAvg sample counts), with the clients whose inputs
    /// it holds (under secure aggregation with dropouts, the survivors; the server knows them, it unmasked their sum).
    /// </summary>
    Aggregated Aggregate(IReadOnlyList<Update> uploads, IReadOnlyList<double> weights, Rng rng);
}

/// <summary>
/// A client-side defence that changes how the client computes every local gradient (DP-SGD clips each example's
/// gradient and adds noise before the step) instead of transforming the finished upload. Its sessions pass uploads
/// through unchanged, and it must be a pipeline's first stage: every other stage transforms what it produced.
/// </summary>
public interface IGradientDefense : IClientDefense
{
    /// <summary>The rule every client uses for every local step; its noise comes from <paramref name="rng"/>.</summary>
    LocalGradient Gradient(Rng rng);
}

/// <summary>
/// A client-side defence whose uploads go on the wire as (index, value) pairs of their non-zero entries (top-k); a
/// pipeline's upload is sent sparse when its last client-side stage is one of these.
/// </summary>
public interface ISparsifyingDefense : IClientDefense;
