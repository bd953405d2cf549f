using DefenseBench.Core.Data;
using DefenseBench.Core.Randomness;
using static TorchSharp.torch;

namespace DefenseBench.Core.Attacks;

/// <summary>
/// The attacker's auxiliary data: images of the training split drawn by the attack's own stream. As in the LLG code,
/// they come from the same distribution and may include a victim's image by chance.
/// </summary>
public sealed class DatasetAuxiliary(IImageDataset dataset, int numClasses) : IAuxiliaryData
{
    public ImageShape Shape => dataset.Shape;
    public int NumClasses => numClasses;

    public (Tensor Images, int[] Labels) Pool(int perClass, Rng rng, Device device)
    {
        var indices = new List<int>();
        for (int c = 0; c < numClasses; c++)
        {
            var members = dataset.ClassIndices(Split.Train, c);
            // Distinct images: a partial Fisher–Yates over the class's positions.
            int take = Math.Min(perClass, members.Count);
            var chosen = new Dictionary<int, int>();
            for (int i = 0; i < take; i++)
            {
                int j = i + rng.NextInt(members.Count - i);
                int atJ = chosen.GetValueOrDefault(j, j);
                chosen[j] = chosen.GetValueOrDefault(i, i);
                indices.Add(members[atJ]);
            }
        }
        var (images, _) = dataset.Load(Split.Train, indices, device);
        // Labels from the dataset on the host, not read back from the device.
        return (images, indices.Select(i => dataset.Label(Split.Train, i)).ToArray());
    }
}
