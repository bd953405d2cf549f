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

/// <summary>
/// Exactly what the attacker observes: the model it sent, the uploads it may see individually (null when
/// aggregation hides them), their aggregate, and public hyper-parameters. Ground truth never enters a view.
/// </summary>
public sealed class ServerView(Classifier model, IReadOnlyList<Update>? clientUpdates, Update aggregate, PublicInfo info,
    IReadOnlyList<ModelPatch>? sent = null)
{
    /// <summary>The global model the server sent (white-box). Attacks must leave its weights unchanged.</summary>
    public Classifier Model { get; } = model;

    /// <summary>Per-client uploads after client-side defences; null under secure aggregation.</summary>
    public IReadOnlyList<Update>? ClientUpdates { get; } = clientUpdates;

    /// <summary>The weighted mean of the uploads (FedAvg weights B_k / Σ B).</summary>
    public Update Aggregate { get; } = aggregate;

    public PublicInfo Info { get; } = info;

    /// <summary>
    /// What a malicious server changed in the model it sent each client (index = client): client k computed its
    /// update on <see cref="Model"/> with <c>Sent[k]</c> applied. Null when every client got <see cref="Model"/>.
    /// </summary>
    public IReadOnlyList<ModelPatch>? Sent { get; } = sent;

    public bool SeesIndividualUpdates => ClientUpdates != null;
}
