using DefenseBench.Core.Data;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Utility;

/// <summary>
/// The data of a utility training: a seeded subset of the train split as one tensor on the device, each client's
/// share of it (indices into that tensor), and a seeded subset of the test split. Loaded once and shared by the
/// trainings of every defence with the same settings, so defences are compared on the same data. The tensors live
/// outside dispose scopes until <see cref="Dispose"/>.
/// </summary>
public sealed class UtilityData : IDisposable
{
    private UtilityData(Tensor trainImages, Tensor trainLabels, int[][] clientExamples, Tensor testImages, Tensor testLabels)
    {
        TrainImages = trainImages;
        TrainLabels = trainLabels;
        ClientExamples = clientExamples;
        TestImages = testImages;
        TestLabels = testLabels;
    }

    public Tensor TrainImages { get; }
    public Tensor TrainLabels { get; }

    /// <summary>Each client's examples, as rows of <see cref="TrainImages"/>.</summary>
    public IReadOnlyList<int[]> ClientExamples { get; }

    public Tensor TestImages { get; }
    public Tensor TestLabels { get; }

    public static UtilityData Load(IImageDataset dataset, UtilitySettings settings, ulong seed, Device device)
    {
        var trainIndices = Subset(dataset.Count(Split.Train), settings.TrainImages, Rng.For(seed, "train-subset"));
        var testIndices = Subset(dataset.Count(Split.Test), settings.TestImages, Rng.For(seed, "test-subset"));
        var labels = trainIndices.Select(i => dataset.Label(Split.Train, i)).ToArray();
        var partition = Rng.For(seed, "partition");
        int[][] clients = settings.DirichletAlpha is { } alpha
            ? Partition.Dirichlet(labels, dataset.NumClasses, settings.Clients, alpha, Math.Min(10, labels.Length / settings.Clients), partition)
            : Partition.Iid(labels.Length, settings.Clients, partition);
        var (trainImages, trainLabels) = LoadChunked(dataset, Split.Train, trainIndices, device);
        var (testImages, testLabels) = LoadChunked(dataset, Split.Test, testIndices, device);
        return new UtilityData(trainImages, trainLabels, clients, testImages, testLabels);
    }

    /// <summary>A uniform subset of <paramref name="wanted"/> indices out of <paramref name="count"/> (all when wanted is 0 or more than count), ascending.</summary>
    private static int[] Subset(int count, int wanted, Rng rng)
    {
        var all = Enumerable.Range(0, count).ToArray();
        if (wanted == 0 || wanted >= count) return all;
        rng.Shuffle(all);
        return all[..wanted].Order().ToArray();
    }

    /// <summary>Images and labels read a few hundred at a time (large fresh allocations are slow), kept outside dispose scopes.</summary>
    private static (Tensor Images, Tensor Labels) LoadChunked(IImageDataset dataset, Split split, int[] indices, Device device)
    {
        using var scope = torch.NewDisposeScope();
        var parts = indices.Chunk(500).Select(chunk => dataset.Load(split, chunk, device)).ToArray();
        var images = torch.cat(parts.Select(p => p.Images).ToArray(), 0);
        var labels = torch.cat(parts.Select(p => p.Labels).ToArray(), 0);
        return (images.DetachFromDisposeScope(), labels.DetachFromDisposeScope());
    }

    public void Dispose()
    {
        TrainImages.Dispose();
        TrainLabels.Dispose();
        TestImages.Dispose();
        TestLabels.Dispose();
    }
}
