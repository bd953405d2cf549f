namespace DefenseBench.Core.Data;

public enum Split { Train, Test }

/// <summary>Channels × height × width of one image.</summary>
public sealed record ImageShape(int Channels, int Height, int Width)
{
    public int Size => Channels * Height * Width;
    public long[] BatchDims(int n) => [n, Channels, Height, Width];
    public override string ToString() => $"{Channels}x{Height}x{Width}";
    public static readonly ImageShape Mnist = new(1, 28, 28);
    public static readonly ImageShape Cifar = new(3, 32, 32);
}

/// <summary>
/// A labelled image dataset with a train and a test split. Pixels are channel-major floats in [0, 1]; datasets are
/// immutable and safe to share between cells.
/// </summary>
public interface IImageDataset
{
    /// <summary>Canonical name as written in matrix files and the CSV (e.g. "synthetic-mnist", "mnist:/data/mnist").</summary>
    string Name { get; }
    ImageShape Shape { get; }
    int NumClasses { get; }
    int Count(Split split);
    int Label(Split split, int index);
    /// <summary>Indices of the images of one class, ascending.</summary>
    IReadOnlyList<int> ClassIndices(Split split, int label);
    /// <summary>Writes image <paramref name="index"/> into <paramref name="pixels"/> (length Shape.Size).</summary>
    void Read(Split split, int index, Span<float> pixels);
}
