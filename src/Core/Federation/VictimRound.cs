using DefenseBench.Core.Data;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Federation;

/// <summary>One client's private data for a round: a batch per local step and the true label counts over all steps.</summary>
public sealed record ClientData(IReadOnlyList<Batch> StepBatches, int[] TrueCounts)
{
    public int BatchSize => (int)StepBatches[0].Labels.shape[0];
}

/// <summary>
/// The victims of one scenario and seed: the global model (after its training stage) and each client's private
/// batches. A pure function of (scenario, seed): the model, the stage's batches and every client's labels and
/// images come from streams derived from them, so all cells of the scenario see the same victims.
/// Tensors belong to the dispose scope that was current when <see cref="Create"/> ran.
/// </summary>
public sealed class VictimRound
{
    private VictimRound(ScenarioSpec spec, IImageDataset dataset, Classifier model, IReadOnlyList<ClientData> clients, ulong seed, Device device)
    {
        Spec = spec;
        Dataset = dataset;
        Model = model;
        Clients = clients;
        Seed = seed;
        Device = device;
    }

    public ScenarioSpec Spec { get; }
    public IImageDataset Dataset { get; }
    public Classifier Model { get; }
    public IReadOnlyList<ClientData> Clients { get; }
    public ulong Seed { get; }
    public Device Device { get; }

    public PublicInfo Info => new(Spec.NumClasses, Dataset.Shape, Spec.Protocol, Clients.Select(c => c.BatchSize).ToArray());

    /// <summary>
    /// The same scenario, model and seed with each client holding only the first <paramref name="batchSizes"/>[k]
    /// examples of every step's batch: clients with unequal batch sizes, which FedAvg weights and secure aggregation's
    /// survivor bookkeeping must tell apart.
    /// </summary>
    public VictimRound WithBatchSizes(IReadOnlyList<int> batchSizes)
    {
        if (batchSizes.Count != Clients.Count) throw new ArgumentException($"{batchSizes.Count} batch sizes for {Clients.Count} clients", nameof(batchSizes));
        var clients = Clients.Select((c, k) =>
        {
            int b = batchSizes[k];
            if (b < 1 || b > c.BatchSize) throw new ArgumentOutOfRangeException(nameof(batchSizes), $"client {k}: batch size {b} is not in [1, {c.BatchSize}]");
            var batches = c.StepBatches.Select(s => new Batch(s.Images.narrow(0, 0, b), s.Labels.narrow(0, 0, b))).ToArray();
            var counts = new int[Spec.NumClasses];
            foreach (var batch in batches)
                foreach (long label in batch.Labels.to(ScalarType.Int64).cpu().data<long>()) counts[label]++;
            return new ClientData(batches, counts);
        }).ToArray();
        return new VictimRound(Spec, Dataset, Model, clients, Seed, Device);
    }

    /// <summary>The seed of a scenario and trial, from which every stream of the round is derived.</summary>
    public static ulong ScenarioSeed(ScenarioSpec spec, int trial) => Seeds.Derive(Seeds.FromText(spec.Canonical), trial);

    public static VictimRound Create(ScenarioSpec spec, IImageDataset dataset, int trial, Device device)
    {
        ulong seed = ScenarioSeed(spec, trial);
        var model = ModelCatalog.Create(spec.Model, dataset.Shape, spec.NumClasses, Rng.For(seed, "model").NextTorchSeed(), device);
        Train(model, dataset, spec.Stage, Rng.For(seed, "stage"), device);
        if (spec.Mode == ModelMode.Train) model.train(); else model.eval();
        var clients = Enumerable.Range(0, spec.Clients)
            .Select(k =>
            {
                var rng = Rng.For(seed, "client", k);
                return DrawClient(spec, dataset, LabelDistributions.DominantClasses(spec.NumClasses, rng), rng, device);
            })
            .ToArray();
        return new VictimRound(spec, dataset, model, clients, seed, device);
    }

    /// <summary>
    /// The same victims (clients, private batches, seed) facing another global model: the model of a later round of a
    /// federated training. The attacked batches stay the same, so leakage at different rounds is a paired comparison.
    /// </summary>
    public VictimRound WithModel(Classifier model) => new(Spec, Dataset, model, Clients, Seed, Device);

    /// <summary>
    /// The clients' batches in training round <paramref name="round"/> ≥ 1 before the attacked one: each client keeps
    /// its label distribution (the dominant classes of a non-iid client) and draws fresh labels and images from a
    /// stream of its own for that round, so every defence trains on the same batches.
    /// </summary>
    public IReadOnlyList<ClientData> TrainingRound(int round)
    {
        if (round < 1) throw new ArgumentOutOfRangeException(nameof(round), $"training rounds count from 1, not {round}");
        return Enumerable.Range(0, Spec.Clients)
            .Select(k => DrawClient(Spec, Dataset, LabelDistributions.DominantClasses(Spec.NumClasses, Rng.For(Seed, "client", k)),
                Rng.For(Seed, "client", k, "round", round), Device))
            .ToArray();
    }

    private static ClientData DrawClient(ScenarioSpec spec, IImageDataset dataset, (int A, int B) dominant, Rng rng, Device device)
    {
        var counts = new int[spec.NumClasses];
        int draws = spec.Protocol is FedAvg { SameBatch: true } ? 1 : spec.Protocol.Steps;
        var batches = new List<Batch>();
        var drawn = new List<int[]>();
        for (int step = 0; step < draws; step++)
        {
            drawn.Add(spec.Labels.Draw(spec.BatchSize, spec.NumClasses, dominant, rng));
            batches.Add(LoadBatch(dataset, drawn[^1], rng, device));
        }
        while (batches.Count < spec.Protocol.Steps)
        {
            batches.Add(batches[0]);
            drawn.Add(drawn[0]);
        }
        // Counted from the labels drawn on the host: reading them back from the device would synchronise it.
        foreach (int[] labels in drawn)
            foreach (int label in labels) counts[label]++;
        return new ClientData(batches, counts);
    }

    /// <summary>A batch with the given labels, each image drawn uniformly from its class in the train split.</summary>
    public static Batch LoadBatch(IImageDataset dataset, IReadOnlyList<int> labels, Rng rng, Device device)
    {
        var indices = labels.Select(label =>
        {
            var pool = dataset.ClassIndices(Split.Train, label);
            if (pool.Count == 0) throw new Components.InputException($"dataset {dataset.Name} has no training image of class {label}");
            return pool[rng.NextInt(pool.Count)];
        }).ToArray();
        var (images, y) = dataset.Load(Split.Train, indices, device);
        return new Batch(images, y);
    }

    /// <summary>
    /// The training stage: plain SGD before the attack, on uniformly drawn training batches (steps) or on a fresh
    /// shuffle of the training split per epoch, in order, the last batch of an epoch possibly smaller (epochs).
    /// </summary>
    private static void Train(Classifier model, IImageDataset dataset, TrainingStage stage, Rng rng, Device device)
    {
        if (stage.IsUntrained) return;
        model.train();
        var parameters = model.parameters().ToArray();
        int count = dataset.Count(Split.Train);
        foreach (var indices in StageBatches(stage, count, rng))
        {
            using var scope = torch.NewDisposeScope();
            var (images, labels) = dataset.Load(Split.Train, indices, device);
            LocalTraining.SgdStep(model, parameters, new Batch(images, labels), stage.LearningRate);
        }
    }

    /// <summary>The training-split indices of each step of <paramref name="stage"/>, in order.</summary>
    public static IEnumerable<int[]> StageBatches(TrainingStage stage, int count, Rng rng)
    {
        if (stage.Epochs == 0)
        {
            for (int step = 0; step < stage.Steps; step++)
                yield return Enumerable.Range(0, stage.BatchSize).Select(_ => rng.NextInt(count)).ToArray();
            yield break;
        }
        var order = Enumerable.Range(0, count).ToArray();
        for (int epoch = 0; epoch < stage.Epochs; epoch++)
        {
            rng.Shuffle(order);
            for (int start = 0; start < count; start += stage.BatchSize)
                yield return order[start..Math.Min(count, start + stage.BatchSize)];
        }
    }

    /// <summary>
    /// Every client's upload computed on the model <paramref name="modelFor"/> gives it (the global model unless a
    /// malicious server crafted another), each local gradient by <paramref name="gradient"/> (default: plain autograd;
    /// DP-SGD supplies its own).
    /// </summary>
    public IReadOnlyList<Update> Uploads(Func<int, Classifier>? modelFor = null, LocalGradient? gradient = null) =>
        Clients.Select((c, k) => LocalTraining.Compute(modelFor?.Invoke(k) ?? Model, Spec.Protocol, c.StepBatches, gradient)).ToArray();

    /// <summary>Every client's undefended upload computed on the global model with that client's patch applied (a malicious server's crafted models).</summary>
    public IReadOnlyList<Update> Uploads(IReadOnlyList<ModelPatch> sent, LocalGradient? gradient = null)
    {
        if (sent.Count != Clients.Count) throw new ArgumentException($"{sent.Count} patches for {Clients.Count} clients", nameof(sent));
        return Clients.Select((c, k) =>
        {
            using var patched = sent[k].ApplyTo(Model);
            return LocalTraining.Compute(Model, Spec.Protocol, c.StepBatches, gradient);
        }).ToArray();
    }
}
