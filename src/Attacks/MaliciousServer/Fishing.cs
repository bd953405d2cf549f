using System.Globalization;
using DefenseBench.Attacks.Common;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.MaliciousServer;

/// <summary>
/// Fishing-SA (Wang et al., INFOCOM'24; mechanism reconstructed in docs/attacks.md): a malicious server recovers
/// every client's label counts through secure aggregation. It sends client k the global model with one batch-norm
/// layer that every path to the head crosses set to scale 0, a positive shift β^(k) of its own and reset running
/// statistics, so the layer outputs β^(k) for every input in train and eval mode alike and the server knows client
/// k's embedding e^(k) and softmax p^(k). The aggregate of the rank-one last-layer gradients then splits into
/// per-client bias gradients by least squares (<see cref="FishingSolver"/>), and n^(k) = round(B_k·(p^(k) − ∇b^(k))).
/// Exact for FedSGD with K ≤ d + 1 clients and well-conditioned embeddings; the conditions are checked before any
/// model is sent (trying other shifts if cond(Ẽ) is too large), and a cell that fails them is not-applicable.
/// </summary>
public sealed class Fishing(double maxCondition) : IAttack, IModelCrafter
{
    private const double ShiftLow = 0.1, ShiftHigh = 1.0;

    /// <summary>After the designed shifts the server may draw random ones until the embeddings are well conditioned; it gives up after this many.</summary>
    private const int Draws = 8;

    public string Id => "fishing";

    public AttackNeeds Needs => AttackNeeds.None;

    public double MaxCondition { get; } = maxCondition;

    public IReadOnlyList<ModelPatch> Craft(Classifier global, PublicInfo info, Rng rng)
    {
        string layer = global.DominatingBatchNorm
            ?? throw new NotApplicableException($"fishing needs a batch-norm layer that every path to the last layer crosses, and {global.GetType().Name} has none (lenet5-bn, vgg11-bn, vgg16-bn and resnet18 have one)");
        bool withBias = global.Fc.bias is not null;
        int d = global.EmbeddingSize, capacity = d + (withBias ? 1 : 0);
        if (info.Clients > capacity)
            throw new NotApplicableException($"fishing separates at most {(withBias ? "d + 1" : "d")} = {capacity} clients (embedding size d = {d}); this scenario has {info.Clients}");

        var scale = global.state_dict()[$"{layer}.weight"];
        int channels = (int)scale.numel();
        double best = double.PositiveInfinity;
        int tried = 0;
        for (int draw = 0; draw <= Draws; draw++)
        {
            // First a designed set of shifts, then random ones if the model's layers mix them into a bad design.
            bool designed = draw == 0;
            if (designed && channels < info.Clients) continue;
            tried++;
            var patches = Enumerable.Range(0, info.Clients)
                .Select(k => Patch(layer, designed ? OwnChannels(k, info.Clients, channels, rng) : RandomShift(channels, rng), scale.device))
                .ToArray();
            double condition = FishingSolver.Condition(Probe(global, patches, info).Select(p => p.Embedding).ToArray(), withBias);
            if (condition <= MaxCondition) return patches;
            best = Math.Min(best, condition);
        }
        throw new NotApplicableException(string.Create(CultureInfo.InvariantCulture,
            $"the crafted embeddings are nearly dependent: the best of {tried} shift sets has cond(E~) = {best:G3}, above max_condition = {MaxCondition:G3}"));
    }

    /// <summary>β ~ U(0.1, 1) per channel (docs/attacks.md, Fishing).</summary>
    private static float[] RandomShift(int channels, Rng rng) =>
        Enumerable.Range(0, channels).Select(_ => (float)rng.Uniform(ShiftLow, ShiftHigh)).ToArray();

    /// <summary>
    /// A shift in which client k owns the channels j ≡ k (mod K): high there, low elsewhere, with a little jitter.
    /// Where the layer feeds the head directly (lenet5-bn) the embeddings then have nearly disjoint supports and
    /// cond(Ẽ) stays near 10 even for K = d, where random shifts give about 10³ and SecAgg's quantisation noise, amplified
    /// by that much, flips the odd count at large K·B.
    /// </summary>
    private static float[] OwnChannels(int client, int clients, int channels, Rng rng) =>
        Enumerable.Range(0, channels)
            .Select(j => (float)((j % clients == client ? ShiftHigh : ShiftLow) + rng.Uniform(0, 0.05)))
            .ToArray();

    /// <summary>Scale 0, the given shift (positive, so the ReLU after the layer passes it), running statistics reset.</summary>
    private static ModelPatch Patch(string layer, float[] shift, Device device) => new(new Dictionary<string, Tensor>
    {
        [$"{layer}.weight"] = torch.zeros(shift.Length, device: device),
        [$"{layer}.bias"] = torch.tensor(shift, device: device),
        [$"{layer}.running_mean"] = torch.zeros(shift.Length, device: device),
        [$"{layer}.running_var"] = torch.ones(shift.Length, device: device),
    });

    public AttackOutcome Run(ServerView view, AttackContext context)
    {
        var sent = view.Sent ?? throw new NotApplicableException("fishing reads the models it sent each client, and this view holds none");
        var info = view.Info;
        // The aggregate holds the contributors' uploads only (the survivors of a secure aggregation with dropouts, whom
        // the server knows): their crafted embeddings and FedAvg weights B_k / Σ_{survivors} B split it.
        var contributors = view.Contributors;
        var probes = Probe(view.Model, contributors.Select(k => sent[k]).ToArray(), info);
        var lastLayer = LastLayer.From(view.Aggregate, view.AggregateBatchSize, info.Protocol);
        double total = view.AggregateBatchSize;
        var split = FishingSolver.Split(lastLayer.WeightGrad, lastLayer.BiasGrad, probes.Select(p => p.Embedding).ToArray(),
            contributors.Select(k => info.BatchSizes[k] / total).ToArray());
        var recoveries = probes.Select((p, i) => new LabelRecovery(contributors[i],
            FishingSolver.Counts(p.Probabilities, split.BiasGradients[i], info.BatchSizes[contributors[i]], info.Protocol.Steps))).ToArray();
        return new AttackOutcome(recoveries)
        {
            Extras = new Dictionary<string, double>
            {
                ["condition"] = FishingSolver.Condition(probes.Select(p => p.Embedding).ToArray(), lastLayer.BiasGrad is not null),
                ["residual"] = split.RelativeResidual,
            },
        };
    }

    /// <summary>What the server computes for each crafted model: the embedding and softmax every input of that client gets.</summary>
    private sealed record ProbeResult(double[] Embedding, double[] Probabilities);

    /// <summary>
    /// One forward pass per crafted model in the clients' mode (a batch-norm layer's output depends on it), on two different inputs: the patch must
    /// make them identical, or the layer does not dominate the head and the attack cannot work.
    /// </summary>
    private static ProbeResult[] Probe(Classifier model, IReadOnlyList<ModelPatch> sent, PublicInfo info)
    {
        var device = model.Fc.weight!.device;
        return sent.Select(patch =>
        {
            using var scope = torch.NewDisposeScope();
            using var patched = patch.ApplyTo(model);
            using var noGrad = torch.no_grad();
            var inputs = torch.cat([torch.zeros(info.Shape.BatchDims(1), device: device), torch.ones(info.Shape.BatchDims(1), device: device)], 0);
            var embedding = model.Embed(inputs).to(ScalarType.Float64).cpu();
            if (!torch.allclose(embedding[0], embedding[1], rtol: 1e-6, atol: 1e-7))
                throw new NotApplicableException("the crafted model's embedding still depends on the input");
            var e = embedding[0];
            var logits = model.Fc.forward(e.to(model.Fc.weight.dtype).to(device).unsqueeze(0)).to(ScalarType.Float64).cpu()[0];
            return new ProbeResult(e.data<double>().ToArray(), torch.softmax(logits, 0).data<double>().ToArray());
        }).ToArray();
    }
}
