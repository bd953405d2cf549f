using DefenseBench.Core.Data;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using DefenseBench.Harness.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Utility;

/// <summary>What one utility training measured: the final test accuracy, the mean cosine between the defended and the
/// clean aggregate update, the run's shape for the privacy accountant, and the round whose aggregate was not finite
/// (null when the training never diverged).</summary>
public sealed record UtilityRun(double Accuracy, double UpdateCosine, TrainingShape Shape, int? DivergedAt = null);

/// <summary>
/// FedAvg under a defence pipeline, to measure what the defence costs: in every round the chosen clients run local
/// SGD from the global model (DP-SGD replaces their gradients), their uploads pass through their own defence sessions
/// (error feedback persists across rounds), the server aggregates them as the pipeline says and steps the global model
/// by the aggregate (<see cref="FederatedRound"/>, which the training up to an attacked round shares). The clean aggregate of the same clients on the same batches is computed beside it for the cosine
/// (GradAttack's training-free proxy). Everything but the defence's own noise is drawn from streams of
/// <paramref name="seed"/> alone, so every defence trains on the same batches.
/// Noise far above the learning signal (DP-SGD at z = 16 with lr 0.3, say) can drive the model to inf and NaN; the
/// training stops at the first aggregate that is not finite, the accuracy is that of the diverged model (outputs that
/// are not finite count as wrong, never as a lucky argmax) and the cosine is the mean over the rounds before.
/// </summary>
public static class UtilityTraining
{
    public static UtilityRun Run(UtilityData data, string model, ImageShape shape, int numClasses, DefensePipeline pipeline,
        UtilitySettings settings, ulong seed, Device device)
    {
        using var classifier = ModelCatalog.Create(model, shape, numClasses, Rng.For(seed, "model").NextTorchSeed(), device);
        classifier.train();
        var parameters = classifier.parameters().ToArray();
        var names = classifier.ParameterNames;
        var protocol = new FedAvg(settings.LocalSteps, settings.LearningRate);
        var defenseRng = Rng.For(seed, "defense", pipeline.Canonical);
        var gradient = pipeline.LocalGradient(defenseRng);
        // Under a DP defence the run samples what the accountant assumes (docs/defences.md): DP-SGD's local batches and
        // DP-FedAvg's clients by Poisson sampling, unless the settings ask for fixed sizes.
        bool poissonBatches = gradient != null && !settings.FixedSize;
        bool poissonClients = pipeline.Aggregation is IPrivateDefense { Unit: PrivacyUnit.Client } && !settings.FixedSize
                              && settings.ClientsPerRound < settings.Clients;
        double clientRate = (double)settings.ClientsPerRound / settings.Clients;
        double cosines = 0;
        int rounds = 0;
        int? divergedAt = null;
        using (var sessions = pipeline.OpenSessions(settings.Clients))
        {
            for (int round = 0; round < settings.Rounds; round++)
            {
                using var scope = torch.NewDisposeScope();
                var chosen = poissonClients
                    ? PoissonSample(Enumerable.Range(0, settings.Clients).ToArray(), clientRate, Rng.For(seed, "round", round))
                    : Choose(settings.Clients, settings.ClientsPerRound, Rng.For(seed, "round", round));
                if (chosen.Length == 0) continue; // an empty Poisson draw: the round changes nothing
                var participants = new List<Participant>();
                foreach (int k in chosen)
                {
                    var batches = poissonBatches
                        ? PoissonBatches(data, data.ClientExamples[k], settings, Rng.For(seed, "batches", round, k))
                        : Batches(data, data.ClientExamples[k], settings, Rng.For(seed, "batches", round, k));
                    if (batches.Count == 0) continue; // every step's Poisson draw empty: nothing to upload
                    participants.Add(new Participant(k, batches, data.ClientExamples[k].Length));
                }
                if (participants.Count == 0) continue;
                var (aggregate, contributors, weights, clean) = FederatedRound.Run(classifier, protocol, round, participants, gradient, sessions, pipeline, defenseRng, withClean: true);
                // DP-FedAvg averages over the m clients it got; a Poisson round divides by the expected m = q·N instead,
                // so the noise std is z·C/(q·N) whatever the draw (the mechanism the accountant analyses).
                if (poissonClients)
                {
                    // An explicit, kept-alive Scalar (see PerExampleGradients.ClippedSum).
                    using var rescale = (participants.Count / (clientRate * settings.Clients)).ToScalar();
                    aggregate = aggregate.Map((_, t) => t.mul(rescale));
                }
                bool finite = FederatedRound.IsFinite(aggregate);
                if (finite)
                {
                    // Against the clean mean of the same clients: a secure aggregation's dropouts are not a distortion.
                    cosines += Cosine(aggregate, Aggregation.WeightedMean(contributors.Select(i => clean[i]).ToArray(), contributors.Select(i => weights[i]).ToArray()));
                    rounds++;
                }
                FederatedRound.Step(parameters, names, aggregate);
                if (!finite)
                {
                    divergedAt = round;
                    break;
                }
            }
        }
        var runShape = new TrainingShape(settings.Clients, settings.ClientsPerRound, settings.Rounds, settings.LocalSteps, settings.BatchSize,
            data.ClientExamples.Min(e => e.Length), parameters.Length, FixedSize: settings.FixedSize);
        return new UtilityRun(Accuracy(classifier, data.TestImages, data.TestLabels), rounds == 0 ? 0 : cosines / rounds, runShape, divergedAt);
    }

    /// <summary>m of the N clients, without replacement, in ascending order.</summary>
    public static int[] Choose(int clients, int perRound, Rng rng)
    {
        if (perRound >= clients) return Enumerable.Range(0, clients).ToArray();
        var all = Enumerable.Range(0, clients).ToArray();
        rng.Shuffle(all);
        return all[..perRound].Order().ToArray();
    }

    /// <summary>Each of <paramref name="items"/> independently with probability <paramref name="rate"/>, in order.</summary>
    public static int[] PoissonSample(int[] items, double rate, Rng rng) => items.Where(_ => rng.NextDouble() < rate).ToArray();

    /// <summary>
    /// One Poisson batch per local step: each of the client's n examples in with probability q = min(1, B/n), divided
    /// by its expected size q·n under DP-SGD. A step whose draw is empty (probability (1 − q)^n, about e^−B) is skipped.
    /// </summary>
    private static List<Batch> PoissonBatches(UtilityData data, int[] examples, UtilitySettings settings, Rng rng)
    {
        double rate = Math.Min(1.0, (double)settings.BatchSize / examples.Length);
        var batches = new List<Batch>(settings.LocalSteps);
        for (int step = 0; step < settings.LocalSteps; step++)
        {
            var drawn = PoissonSample(examples, rate, rng);
            if (drawn.Length == 0) continue;
            var rows = torch.tensor(drawn.Select(i => (long)i).ToArray(), device: data.TrainImages.device);
            batches.Add(new Batch(data.TrainImages.index_select(0, rows), data.TrainLabels.index_select(0, rows)) { ExpectedSize = rate * examples.Length });
        }
        return batches;
    }

    /// <summary>One batch per local step, each min(B, n) of the client's n examples drawn without replacement.</summary>
    private static List<Batch> Batches(UtilityData data, int[] examples, UtilitySettings settings, Rng rng)
    {
        var batches = new List<Batch>(settings.LocalSteps);
        int size = Math.Min(settings.BatchSize, examples.Length);
        var pool = examples.ToArray();
        for (int step = 0; step < settings.LocalSteps; step++)
        {
            // A partial Fisher–Yates shuffle: the first `size` entries become a uniform sample without replacement.
            for (int i = 0; i < size; i++)
            {
                int j = i + rng.NextInt(pool.Length - i);
                (pool[i], pool[j]) = (pool[j], pool[i]);
            }
            var rows = torch.tensor(pool[..size].Select(i => (long)i).ToArray(), device: data.TrainImages.device);
            batches.Add(new Batch(data.TrainImages.index_select(0, rows), data.TrainLabels.index_select(0, rows)));
        }
        return batches;
    }

    /// <summary>cos(a, b) over all tensors flattened, in float64; 0 when either is zero.</summary>
    public static double Cosine(Update a, Update b)
    {
        double dot = 0, aa = 0, bb = 0;
        // square()'s exponent, explicit and kept alive: TorchSharp's implicit one may be finalised while libtorch reads it.
        using var two = 2.ToScalar();
        foreach (var name in a.Names)
        {
            var x = a[name].to(ScalarType.Float64);
            var y = b[name].to(ScalarType.Float64);
            dot += (x * y).sum().item<double>();
            aa += x.pow(two).sum().item<double>();
            bb += y.pow(two).sum().item<double>();
        }
        return aa == 0 || bb == 0 ? 0 : dot / Math.Sqrt(aa * bb);
    }

    /// <summary>Top-1 accuracy of the model in eval mode, forwarding a few hundred images at a time; an image whose
    /// outputs are not all finite counts as wrong (argmax over NaN would name an arbitrary class).</summary>
    public static double Accuracy(Classifier model, Tensor images, Tensor labels)
    {
        model.eval();
        long correct = 0, count = labels.shape[0];
        using (torch.no_grad())
        {
            for (long start = 0; start < count; start += 500)
            {
                using var scope = torch.NewDisposeScope();
                long n = Math.Min(500, count - start);
                var outputs = model.forward(images.narrow(0, start, n));
                var right = outputs.argmax(1).eq(labels.narrow(0, start, n)).logical_and(outputs.isfinite().all(1));
                correct += right.sum().item<long>();
            }
        }
        model.train();
        return (double)correct / count;
    }
}
