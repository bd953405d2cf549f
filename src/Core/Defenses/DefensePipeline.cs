using DefenseBench.Core.Components;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Core.Defenses;

/// <summary>
/// Client-side defences applied in order, then plain or protected aggregation. The order is part of the canonical
/// name: "dpsgd(clip=1,z=0.5)>topk(keep=0.1,scope=layer,ef=off)"; no stages is "none".
/// </summary>
public sealed record DefensePipeline(IReadOnlyList<IClientDefense> ClientStages, IAggregationDefense? Aggregation = null)
{
    public static readonly DefensePipeline None = new([]);

    /// <summary>
    /// A pipeline from stages in the order written: client-side stages first, at most one aggregation-side stage, last.
    /// Throws <see cref="ArgumentException"/> with the reason otherwise (matrix validation reports it with the line).
    /// </summary>
    public static DefensePipeline From(IReadOnlyList<IDefense> stages)
    {
        var client = new List<IClientDefense>();
        IAggregationDefense? aggregation = null;
        foreach (var stage in stages)
        {
            if (stage is IGradientDefense && (client.Count > 0 || aggregation != null))
                throw new ArgumentException($"{stage.Canonical} changes how each client computes its update, so it must be the first stage of a pipeline");
            if (aggregation != null)
                throw new ArgumentException($"{aggregation.Canonical} aggregates the uploads, so it must be the last stage of a pipeline");
            switch (stage)
            {
                case IClientDefense c: client.Add(c); break;
                case IAggregationDefense a: aggregation = a; break;
                default: throw new ArgumentException($"{stage.Canonical} is neither a client-side nor an aggregation defence");
            }
        }
        return new DefensePipeline(client, aggregation);
    }

    public string Canonical
    {
        get
        {
            var names = ClientStages.Select(s => s.Canonical).ToList();
            if (Aggregation != null) names.Add(Aggregation.Canonical);
            return CanonicalName.Pipeline(names);
        }
    }

    /// <summary>What anyone may know of this pipeline: every stage's canonical name and role, in order (<see cref="PublicDefense"/>).</summary>
    public PublicDefense Public
    {
        get
        {
            var stages = ClientStages
                .Select(s => new PublicStage(CanonicalName.Parse(s.Canonical), s is IGradientDefense ? StageRole.Gradient : StageRole.Upload))
                .ToList();
            if (Aggregation != null) stages.Add(new PublicStage(CanonicalName.Parse(Aggregation.Canonical), StageRole.Aggregation));
            return new PublicDefense(Canonical, stages);
        }
    }

    /// <summary>The first stage's local-gradient rule when it replaces the client's computation (DP-SGD); null otherwise.</summary>
    public LocalGradient? LocalGradient(Rng rng) => ClientStages.Count > 0 && ClientStages[0] is IGradientDefense g ? g.Gradient(rng) : null;

    /// <summary>Per-client sessions for one FL run (state such as error feedback lives in them).</summary>
    public PipelineSessions OpenSessions(int clients) =>
        new(Enumerable.Range(0, clients).Select(k => (IReadOnlyList<IClientDefenseSession>)ClientStages.Select(s => s.Open(k)).ToArray()).ToArray());

    /// <summary>
    /// The server view for one round: individual uploads unless an aggregation defence hides them.
    /// <paramref name="sent"/>: the per-client patches a malicious server sent (null when everyone got the model).
    /// </summary>
    public ServerView View(Models.Classifier model, IReadOnlyList<Update> uploads, PublicInfo info, Rng rng,
        IReadOnlyList<Models.ModelPatch>? sent = null)
    {
        var aggregated = Aggregate(uploads, info.BatchSizes.Select(b => (double)b).ToArray(), rng);
        return new(model, Aggregation == null ? uploads : null, aggregated.Update, info, sent, aggregated.Contributors, Public);
    }

    /// <summary>
    /// The aggregate the server learns and whose uploads it holds: the aggregation defence's, else the plain weighted
    /// mean (FedAvg weights) of every upload.
    /// </summary>
    public Aggregated Aggregate(IReadOnlyList<Update> uploads, IReadOnlyList<double> weights, Rng rng) =>
        Aggregation == null
            ? Aggregated.OfAll(Federation.Aggregation.WeightedMean(uploads, weights), uploads.Count)
            : Aggregation.Aggregate(uploads, weights, rng);
}

/// <summary>Every client's defence sessions for one FL run; disposing frees their state.</summary>
public sealed class PipelineSessions(IReadOnlyList<IClientDefenseSession>[] sessions) : IDisposable
{
    /// <summary>Runs one client's upload through its sessions, in pipeline order, telling them its origin when given.</summary>
    public Update Apply(int client, Update upload, Rng rng, UploadOrigin? origin = null)
    {
        foreach (var session in sessions[client]) upload = origin == null ? session.Apply(upload, rng) : session.Apply(upload, rng, origin);
        return upload;
    }

    /// <summary>Every client's sessions forked (<see cref="IClientDefenseSession.Fork"/>): the same state, evolving apart from these.</summary>
    public PipelineSessions Fork() => new(sessions.Select(s => (IReadOnlyList<IClientDefenseSession>)s.Select(x => x.Fork()).ToArray()).ToArray());

    /// <summary>Client <paramref name="client"/>'s session of stage <paramref name="stage"/> (client-side stages in pipeline order).</summary>
    public IClientDefenseSession Session(int client, int stage) => sessions[client][stage];

    public void Dispose()
    {
        foreach (var session in sessions.SelectMany(s => s)) session.Dispose();
    }
}
