using DefenseBench.Core.Data;
using DefenseBench.Core.Models;

namespace DefenseBench.Core.Federation;

/// <summary>Hyper-parameters the server knows because it set them or the protocol reports them.</summary>
public sealed record PublicInfo(int NumClasses, ImageShape Shape, Protocol Protocol, IReadOnlyList<int> BatchSizes)
{
    public int Clients => BatchSizes.Count;

    /// <summary>Labels behind one client's upload: B·U.</summary>
    public int LabelsOf(int client) => BatchSizes[client] * Protocol.Steps;

    /// <summary>Labels behind the aggregate: Σ_k B_k·U.</summary>
    public int TotalLabels => BatchSizes.Sum() * Protocol.Steps;
}

/// <summary>An aggregate and the clients whose uploads it holds (ascending indices).</summary>
public sealed record Aggregated(Update Update, IReadOnlyList<int> Contributors)
{
    /// <summary>An aggregate of every one of <paramref name="clients"/> clients.</summary>
    public static Aggregated OfAll(Update update, int clients) => new(update, Enumerable.Range(0, clients).ToArray());
}

/// <summary>
/// Exactly what the attacker observes: the model it sent, the uploads it may see individually (null when
/// aggregation hides them), their aggregate, and public hyper-parameters. Ground truth never enters a view.
/// </summary>
public sealed class ServerView(Classifier model, IReadOnlyList<Update>? clientUpdates, Update aggregate, PublicInfo info,
    IReadOnlyList<ModelPatch>? sent = null, IReadOnlyList<int>? contributors = null, PublicDefense? defense = null)
{
    /// <summary>The global model the server sent (white-box). Attacks must leave its weights unchanged.</summary>
    public Classifier Model { get; } = model;

    /// <summary>Per-client uploads after client-side defences; null under secure aggregation.</summary>
    public IReadOnlyList<Update>? ClientUpdates { get; } = clientUpdates;

    /// <summary>The weighted mean of the contributors' uploads (FedAvg weights B_k / Σ_{contributors} B).</summary>
    public Update Aggregate { get; } = aggregate;

    public PublicInfo Info { get; } = info;

    /// <summary>
    /// The clients whose uploads <see cref="Aggregate"/> holds, ascending: all of them, or under secure aggregation with
    /// dropouts the survivors, whose masked inputs the server summed and unmasked (it knows who they are).
    /// </summary>
    public IReadOnlyList<int> Contributors { get; } = contributors ?? Enumerable.Range(0, info.Clients).ToArray();

    /// <summary>Σ B_k over the contributors: the batch size behind the aggregate.</summary>
    public int AggregateBatchSize => Contributors.Sum(k => Info.BatchSizes[k]);

    /// <summary>The clients that dropped out before their input reached the aggregate.</summary>
    public IReadOnlyList<int> Dropped => Enumerable.Range(0, Info.Clients).Except(Contributors).ToArray();

    /// <summary>
    /// What a malicious server changed in the model it sent each client (index = client): client k computed its
    /// update on <see cref="Model"/> with <c>Sent[k]</c> applied. Null when every client got <see cref="Model"/>.
    /// </summary>
    public IReadOnlyList<ModelPatch>? Sent { get; } = sent;

    /// <summary>
    /// The public description of the defence pipeline the uploads went through (its stages and their configuration),
    /// which an attacker who knows the defence reads; never its random draws or the state its clients carry.
    /// </summary>
    public PublicDefense Defense { get; } = defense ?? PublicDefense.None;

    public bool SeesIndividualUpdates => ClientUpdates != null;
}
