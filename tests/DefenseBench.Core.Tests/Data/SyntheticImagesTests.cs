using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;

namespace DefenseBench.Core.Tests.Data;

public sealed class SyntheticImagesTests
{
    private static SyntheticImages Mnist(int classes = 10, ulong seed = 20221) => new("synthetic-test", ImageShape.Mnist, classes, 50, 10, seed);

    private static float[] Pixels(IImageDataset data, Split split, int index)
    {
        var pixels = new float[data.Shape.Size];
        data.Read(split, index, pixels);
        return pixels;
    }

    [Fact]
    public void The_same_index_gives_identical_pixels_in_two_instances()
    {
        var a = Mnist();
        var b = Mnist();

        foreach (int index in new[] { 0, 7, 123, 499 })
        {
            Assert.Equal(Pixels(a, Split.Train, index), Pixels(b, Split.Train, index));
            Assert.Equal(Pixels(a, Split.Test, index % 100), Pixels(b, Split.Test, index % 100));
        }
        // Reading is a pure function of the index, not of what was read before.
        Assert.Equal(Pixels(a, Split.Train, 7), Pixels(a, Split.Train, 7));
    }

    [Fact]
    public void Pixels_lie_in_the_unit_interval_and_are_not_flat()
    {
        foreach (var data in new IImageDataset[] { Mnist(), new SyntheticImages("c", ImageShape.Cifar, 100, 5, 1) })
        {
            for (int index = 0; index < 20; index++)
            {
                var pixels = Pixels(data, Split.Train, index);
                Assert.All(pixels, p => Assert.InRange(p, 0f, 1f));
                Assert.True(pixels.Max() - pixels.Min() > 0.5f, $"{data.Name} image {index} is nearly flat");
            }
        }
    }

    [Fact]
    public void Label_is_the_index_modulo_the_class_count()
    {
        var data = Mnist(classes: 7);

        Assert.Equal(7 * 50, data.Count(Split.Train));
        Assert.Equal(7 * 10, data.Count(Split.Test));
        for (int index = 0; index < 30; index++)
        {
            Assert.Equal(index % 7, data.Label(Split.Train, index));
            Assert.Equal(index % 7, data.Label(Split.Test, index));
        }
    }

    [Fact]
    public void Class_indices_list_every_image_of_the_class_in_ascending_order()
    {
        var data = Mnist(classes: 7);

        foreach (var split in new[] { Split.Train, Split.Test })
        {
            var all = new List<int>();
            for (int label = 0; label < 7; label++)
            {
                var indices = data.ClassIndices(split, label);
                Assert.Equal(split == Split.Train ? 50 : 10, indices.Count);
                Assert.Equal(indices.Order(), indices);
                Assert.All(indices, i => Assert.Equal(label, data.Label(split, i)));
                Assert.Equal(indices.ToArray(), Enumerable.Range(0, indices.Count).Select(i => indices[i]).ToArray());
                Assert.Throws<ArgumentOutOfRangeException>(() => indices[indices.Count]);
                Assert.Throws<ArgumentOutOfRangeException>(() => indices[-1]);
                all.AddRange(indices);
            }
            Assert.Equal(Enumerable.Range(0, data.Count(split)), all.Order());
        }
    }

    [Fact]
    public void A_thousand_classes_are_allowed_and_more_or_fewer_than_two_are_not()
    {
        var data = new SyntheticImages("big", ImageShape.Mnist, SyntheticImages.MaxClasses, 1, 1);

        Assert.Equal(1000, data.NumClasses);
        Assert.Equal(999, data.Label(Split.Train, 999));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticImages("too-big", ImageShape.Mnist, 1001, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticImages("one", ImageShape.Mnist, 1, 1, 1));
        Assert.NotNull(new SyntheticImages("two", ImageShape.Mnist, 2, 1, 1));
    }

    [Fact]
    public void Splits_samples_and_seeds_give_different_images()
    {
        var data = Mnist();
        var train = Pixels(data, Split.Train, 3);

        // Same class (3) and sample (0) in the other split.
        Assert.NotEqual(train, Pixels(data, Split.Test, 3));
        // Same class, next sample.
        Assert.NotEqual(train, Pixels(data, Split.Train, 13));
        // Another seed.
        Assert.NotEqual(train, Pixels(Mnist(seed: 1), Split.Train, 3));
    }

    [Fact]
    public void Samples_of_a_class_are_closer_to_each_other_than_to_another_class()
    {
        var data = Mnist();
        static double Distance(float[] a, float[] b) => Math.Sqrt(a.Zip(b).Sum(p => (p.First - p.Second) * (double)(p.First - p.Second)));
        static float[] Mean(IEnumerable<float[]> images)
        {
            var list = images.ToList();
            return [.. Enumerable.Range(0, list[0].Length).Select(i => list.Average(x => x[i]))];
        }
        var mean0 = Mean(Enumerable.Range(0, 20).Select(s => Pixels(data, Split.Train, 10 * s)));
        var mean1 = Mean(Enumerable.Range(0, 20).Select(s => Pixels(data, Split.Train, 10 * s + 1)));
        var probe = Pixels(data, Split.Test, 0); // class 0, from the test split

        Assert.True(Distance(probe, mean0) < Distance(probe, mean1));
    }

    /// <summary>
    /// The synthetic default must be learnable, or utility metrics (accuracy under a defence) would be meaningless:
    /// FCN-3 with plain SGD reaches high test accuracy within a couple of hundred steps.
    /// </summary>
    [Fact]
    public void Fcn3_learns_synthetic_mnist_to_high_test_accuracy()
    {
        using var scope = torch.NewDisposeScope();
        var data = DatasetCatalog.Open("synthetic-mnist");
        var model = ModelCatalog.Create("fcn3", data.Shape, data.NumClasses, 5, torch.CPU);
        model.train();
        var parameters = model.parameters().ToArray();
        var rng = new Rng(17);
        int count = data.Count(Split.Train);
        for (int step = 0; step < 200; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            var indices = Enumerable.Range(0, 32).Select(_ => rng.NextInt(count)).ToArray();
            var (images, labels) = data.Load(Split.Train, indices, torch.CPU);
            LocalTraining.SgdStep(model, parameters, new Batch(images, labels), 0.1);
        }

        model.eval();
        var (testImages, testLabels) = data.Load(Split.Test, Enumerable.Range(0, 500).ToArray(), torch.CPU);
        using var noGrad = torch.no_grad();
        double accuracy = model.forward(testImages).argmax(1).eq(testLabels).to(torch.ScalarType.Float64).mean().item<double>();

        Assert.True(accuracy >= 0.9, $"test accuracy {accuracy:F3}");
    }
}
