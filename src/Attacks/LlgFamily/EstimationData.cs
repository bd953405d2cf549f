using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.LlgFamily;

/// <summary>
/// The class-pure batches LLG* and LLG+ estimate from: n repetitions × C classes × B inputs. Each source can list
/// them batch by batch (for the autograd reference) or as weighted distinct samples (for the closed form); both
/// views describe the same draws.
/// </summary>
public abstract class EstimationData(int numClasses, int batchSize, int repeats)
{
    // Forward passes of a few hundred images keep intermediates small; much larger chunks run slower on CPU here.
    protected const int ChunkSize = 512;
    public int NumClasses { get; } = numClasses;
    public int BatchSize { get; } = batchSize;
    public int Repeats { get; } = repeats;

    /// <summary>The n·C batches in (repetition, class) order.</summary>
    public abstract IEnumerable<(int Class, Tensor Images)> Batches();

    /// <summary>The same draws as weighted samples (weight = multiplicity / B).</summary>
    public abstract IEnumerable<ImpactEstimator.WeightedSamples> Weighted();
}

/// <summary>LLG+: B draws with replacement per class and repetition from a pool of auxiliary images of that class.</summary>
public sealed class AuxiliaryDraws : EstimationData
{
    private readonly Tensor _pool;
    private readonly int[] _poolLabels;
    private readonly int[][][] _draws; // [repetition][class][B] → pool row

    public AuxiliaryDraws(Tensor pool, int[] poolLabels, int numClasses, int batchSize, int repeats, Rng rng)
        : base(numClasses, batchSize, repeats)
    {
        _pool = pool;
        _poolLabels = poolLabels;
        var rows = Enumerable.Range(0, numClasses).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < poolLabels.Length; i++) rows[poolLabels[i]].Add(i);
        int empty = Array.FindIndex(rows, r => r.Count == 0);
        if (empty >= 0) throw new NotApplicableException($"the auxiliary data has no image of class {empty}");
        _draws = Enumerable.Range(0, repeats).Select(_ =>
            rows.Select(r => Enumerable.Range(0, batchSize).Select(_ => r[rng.NextInt(r.Count)]).ToArray()).ToArray()).ToArray();
    }

    public override IEnumerable<(int Class, Tensor Images)> Batches()
    {
        var device = _pool.device;
        foreach (var repetition in _draws)
            for (int c = 0; c < NumClasses; c++)
                yield return (c, _pool.index_select(0, torch.tensor(repetition[c].Select(i => (long)i).ToArray(), device: device)));
    }

    public override IEnumerable<ImpactEstimator.WeightedSamples> Weighted()
    {
        var multiplicity = new int[_poolLabels.Length];
        foreach (var repetition in _draws)
            foreach (var batch in repetition)
                foreach (int row in batch) multiplicity[row]++;
        var used = Enumerable.Range(0, multiplicity.Length).Where(i => multiplicity[i] > 0).ToArray();
        for (int start = 0; start < used.Length; start += ChunkSize)
        {
            var rows = used.Skip(start).Take(ChunkSize).ToArray();
            var index = torch.tensor(rows.Select(i => (long)i).ToArray(), device: _pool.device);
            yield return new ImpactEstimator.WeightedSamples(_pool.index_select(0, index),
                rows.Select(i => (long)_poolLabels[i]).ToArray(),
                rows.Select(i => multiplicity[i] / (double)BatchSize).ToArray());
        }
    }
}

/// <summary>LLG*'s dummy inputs: all zeros, all ones, or the LLG code's "random" (integers in [0, 2^24), tensor.random_()).</summary>
public sealed class DummyInputs(ImageShape shape, string kind, int numClasses, int batchSize, int repeats, long seed, Device device)
    : EstimationData(numClasses, batchSize, repeats)
{
    private Tensor Constant(int n)
    {
        // Explicit and kept alive: an implicit Scalar may be finalised while libtorch still reads it.
        using var fill = (kind == "ones" ? 1f : 0f).ToScalar();
        return torch.full(shape.BatchDims(n), fill, device: device);
    }

    private IEnumerable<(int Class, Tensor Images)> RandomBatches()
    {
        using var generator = new Generator((ulong)seed, torch.CPU);
        for (int r = 0; r < Repeats; r++)
            for (int c = 0; c < NumClasses; c++)
                yield return (c, torch.randint(0, 1 << 24, shape.BatchDims(BatchSize), generator: generator).to(ScalarType.Float32).to(device));
    }

    public override IEnumerable<(int Class, Tensor Images)> Batches() => kind == "random"
        ? RandomBatches()
        : Enumerable.Range(0, Repeats).SelectMany(_ => Enumerable.Range(0, NumClasses).Select(c => (c, Constant(BatchSize))));

    public override IEnumerable<ImpactEstimator.WeightedSamples> Weighted()
    {
        if (kind != "random")
        {
            // Identical inputs: one sample per class carries all n·B draws (weight n·B / B = n).
            yield return new ImpactEstimator.WeightedSamples(Constant(NumClasses),
                Enumerable.Range(0, NumClasses).Select(c => (long)c).ToArray(), Enumerable.Repeat((double)Repeats, NumClasses).ToArray());
            yield break;
        }
        var images = new List<Tensor>();
        var classes = new List<long>();
        foreach (var (c, batch) in RandomBatches())
        {
            images.Add(batch);
            classes.AddRange(Enumerable.Repeat((long)c, BatchSize));
            if (classes.Count < ChunkSize) continue;
            yield return new ImpactEstimator.WeightedSamples(torch.cat(images, 0), classes.ToArray(), Enumerable.Repeat(1.0 / BatchSize, classes.Count).ToArray());
            images.Clear();
            classes.Clear();
        }
        if (classes.Count > 0)
            yield return new ImpactEstimator.WeightedSamples(torch.cat(images, 0), classes.ToArray(), Enumerable.Repeat(1.0 / BatchSize, classes.Count).ToArray());
    }
}
