using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Data;

public static class DatasetExtensions
{
    /// <summary>Images [n, C, H, W] (float32) and labels [n] (int64) for the given indices, on <paramref name="device"/>.</summary>
    public static (Tensor Images, Tensor Labels) Load(this IImageDataset dataset, Split split, IReadOnlyList<int> indices, Device device)
    {
        int size = dataset.Shape.Size;
        var pixels = new float[(long)indices.Count * size];
        var labels = new long[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            dataset.Read(split, indices[i], pixels.AsSpan(i * size, size));
            labels[i] = dataset.Label(split, indices[i]);
        }
        var images = torch.tensor(pixels, dataset.Shape.BatchDims(indices.Count), dtype: ScalarType.Float32, device: device);
        var y = torch.tensor(labels, dtype: ScalarType.Int64, device: device);
        return (images, y);
    }

    /// <summary>Checks that every class of the dataset has at least one image in <paramref name="split"/>.</summary>
    public static int[] EmptyClasses(this IImageDataset dataset, Split split) =>
        Enumerable.Range(0, dataset.NumClasses).Where(c => dataset.ClassIndices(split, c).Count == 0).ToArray();

    /// <summary>
    /// A batch of images [n, ...] as one channel-major pixel array per image, on the host: plain arrays outlive the
    /// dispose scope and the device (reconstructions, originals for scoring).
    /// </summary>
    public static float[][] PerImage(this Tensor images)
    {
        int count = (int)images.shape[0];
        var pixels = images.detach().cpu().data<float>().ToArray();
        int size = pixels.Length / count;
        return Enumerable.Range(0, count).Select(i => pixels.AsSpan(i * size, size).ToArray()).ToArray();
    }
}
