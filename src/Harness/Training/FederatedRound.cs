using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Training;

/// <summary>One client's part in a round: its index, its batch for each local step, and its FedAvg weight.</summary>
public sealed record Participant(int Client, IReadOnlyList<Batch> Batches, double Weight);

/// <summary>
/// What the server got from one round: the aggregate, the participants (indices into the round's list) whose uploads
/// it holds, their weights, and, when asked for, each participant's undefended upload (the cosine's reference).
/// </summary>
public sealed record RoundOutcome(Update Aggregate, IReadOnlyList<int> Contributors, IReadOnlyList<double> Weights, IReadOnlyList<Update> Clean);

/// <summary>
/// One round of federated training under a defence pipeline, the machinery the utility training and the training
/// up to an attacked round share: each participant computes its upload from the global model (DP-SGD's rule replaces
/// its local gradients), the upload goes through that client's defence sessions (error feedback carries over from
/// round to round in them), the pipeline aggregates (plainly, or by secure aggregation), and the server steps the
/// global model against the aggregate.
/// </summary>
public static class FederatedRound
{
    /// <param name="round">the round's index (0-based), told to the defences with each upload's origin</param>
    /// <param name="withClean">also compute each participant's undefended upload on the same batches</param>
    public static RoundOutcome Run(Classifier model, Protocol protocol, int round, IReadOnlyList<Participant> participants, LocalGradient? gradient,
        PipelineSessions sessions, DefensePipeline pipeline, Rng defenseRng, bool withClean)
    {
        if (participants.Count == 0) throw new ArgumentException("a round needs at least one participant", nameof(participants));
        var clean = new List<Update>();
        var sent = new List<Update>();
        foreach (var p in participants)
        {
            var plain = withClean || gradient == null ? LocalTraining.Compute(model, protocol, p.Batches) : null;
            var own = gradient == null ? plain! : LocalTraining.Compute(model, protocol, p.Batches, gradient);
            if (withClean) clean.Add(plain!);
            var origin = new UploadOrigin(p.Client, round, (int)p.Batches[0].Labels.shape[0], protocol);
            sent.Add(sessions.Apply(p.Client, own, defenseRng, origin));
        }
        var weights = participants.Select(p => p.Weight).ToArray();
        var (aggregate, contributors) = pipeline.Aggregate(sent, weights, defenseRng);
        return new RoundOutcome(aggregate, contributors, weights, clean);
    }

    /// <summary>
    /// The server's step: every parameter moves by −<paramref name="rate"/> × the aggregate. A FedAvg aggregate is a
    /// weight delta W_old − W_new and is applied whole (rate 1); a FedSGD aggregate is a gradient, applied at the
    /// server's learning rate.
    /// </summary>
    public static void Step(Tensor[] parameters, IReadOnlyList<string> names, Update aggregate, double rate = 1)
    {
        using (torch.no_grad())
        {
            if (rate == 1)
            {
                for (int i = 0; i < parameters.Length; i++) parameters[i].sub_(aggregate[names[i]]);
                return;
            }
            // An explicit, kept-alive Scalar (see LocalTraining.SgdStep).
            using var alpha = (-rate).ToScalar();
            for (int i = 0; i < parameters.Length; i++) parameters[i].add_(aggregate[names[i]], alpha);
        }
    }

    /// <summary>Whether every entry of the update is finite (one host read per tensor).</summary>
    public static bool IsFinite(Update update) => update.Tensors.All(t => t.isfinite().all().item<bool>());
}
