namespace DefenseBench.Core.Data;

/// <summary>Images held as bytes (value / 255), as MNIST, Fashion-MNIST, CIFAR and the MNIST sample store them.</summary>
public sealed class ByteImageDataset : IImageDataset
{
    private readonly (byte[] Pixels, byte[] Labels)[] _splits;
    private readonly Lazy<IReadOnlyList<int>[]>[] _byClass;

    public ByteImageDataset(string name, ImageShape shape, int numClasses, byte[] trainPixels, byte[] trainLabels,
        byte[] testPixels, byte[] testLabels)
    {
        Name = name;
        Shape = shape;
        NumClasses = numClasses;
        _splits = [(trainPixels, trainLabels), (testPixels, testLabels)];
        foreach (var (pixels, labels) in _splits)
        {
            if (pixels.LongLength != (long)labels.Length * shape.Size)
                throw new ArgumentException($"{name}: {labels.Length} labels but {pixels.LongLength} pixel bytes (expected {(long)labels.Length * shape.Size}).");
            int bad = Array.FindIndex(labels, l => l >= numClasses);
            if (bad >= 0) throw new ArgumentException($"{name}: label {labels[bad]} at index {bad} is not below the class count {numClasses}.");
        }
        _byClass = _splits.Select(s => new Lazy<IReadOnlyList<int>[]>(() => GroupByClass(s.Labels, numClasses))).ToArray();
    }

    private static IReadOnlyList<int>[] GroupByClass(byte[] labels, int numClasses)
    {
        var groups = Enumerable.Range(0, numClasses).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < labels.Length; i++) groups[labels[i]].Add(i);
        return groups;
    }

    public string Name { get; }
    public ImageShape Shape { get; }
    public int NumClasses { get; }
    public int Count(Split split) => _splits[(int)split].Labels.Length;
    public int Label(Split split, int index) => _splits[(int)split].Labels[index];
    public IReadOnlyList<int> ClassIndices(Split split, int label) => _byClass[(int)split].Value[label];

    public void Read(Split split, int index, Span<float> pixels)
    {
        int size = Shape.Size;
        var source = _splits[(int)split].Pixels.AsSpan(index * size, size);
        for (int i = 0; i < size; i++) pixels[i] = source[i] * (1f / 255f);
    }
}
