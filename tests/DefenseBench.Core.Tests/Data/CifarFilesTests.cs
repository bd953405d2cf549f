using DefenseBench.Core.Components;
using DefenseBench.Core.Data;

namespace DefenseBench.Core.Tests.Data;

public sealed class CifarFilesTests : IDisposable
{
    private const int Plane = 32 * 32;
    private const int Size = 3 * Plane;
    private static readonly string[] Batches = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
    // Seven train images spread 2, 1, 2, 1, 1 over the five batches, then three test images.
    private static readonly byte[][] BatchLabels = [[6, 9], [9], [4, 1], [1], [2]];
    private static readonly byte[] TestLabels = [3, 8, 0];
    private readonly string _dir = Directory.CreateTempSubdirectory("cifar-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Pixel at (channel, position) of image i of a split; channels differ so a layout mix-up shows.</summary>
    private static byte Pixel(Split split, int i, int channel, int position) =>
        (byte)((i * 7 + channel * 80 + position + (split == Split.Test ? 3 : 0)) % 256);

    private static byte[] Image(Split split, int i) =>
        [.. Enumerable.Range(0, 3).SelectMany(c => Enumerable.Range(0, Plane).Select(p => Pixel(split, i, c, p)))];

    /// <summary>Records of (label bytes, image) as the binary versions store them.</summary>
    private static byte[] Records(IEnumerable<(byte[] Labels, byte[] Image)> records) =>
        [.. records.SelectMany(r => r.Labels.Concat(r.Image))];

    private static string WriteCifar10(string dir)
    {
        Directory.CreateDirectory(dir);
        int index = 0;
        for (int b = 0; b < Batches.Length; b++)
            File.WriteAllBytes(Path.Combine(dir, Batches[b]), Records(BatchLabels[b].Select(l => (new[] { l }, Image(Split.Train, index++)))));
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), Records(TestLabels.Select((l, i) => (new[] { l }, Image(Split.Test, i)))));
        return dir;
    }

    /// <summary>CIFAR-100 records whose coarse label is fine / 5 + 1 (never equal to the fine one for these labels).</summary>
    private static string WriteCifar100(string dir, byte[] train, byte[] test)
    {
        Directory.CreateDirectory(dir);
        static byte[] Labels(byte fine) => [(byte)(fine / 5 + 1), fine];
        File.WriteAllBytes(Path.Combine(dir, "train.bin"), Records(train.Select((l, i) => (Labels(l), Image(Split.Train, i)))));
        File.WriteAllBytes(Path.Combine(dir, "test.bin"), Records(test.Select((l, i) => (Labels(l), Image(Split.Test, i)))));
        return dir;
    }

    private static void AssertPixels(IImageDataset data, Split split, int count)
    {
        var pixels = new float[Size];
        for (int i = 0; i < count; i++)
        {
            data.Read(split, i, pixels);
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < Plane; p++)
                    Assert.Equal(Pixel(split, i, c, p) / 255f, pixels[c * Plane + p], 1e-6f);
        }
    }

    [Fact]
    public void Cifar10_reads_the_five_batches_in_order_then_the_test_batch()
    {
        var data = CifarFiles.Load10("cifar10:x", WriteCifar10(_dir));

        Assert.Equal("cifar10:x", data.Name);
        Assert.Equal(ImageShape.Cifar, data.Shape);
        Assert.Equal(10, data.NumClasses);
        Assert.Equal(BatchLabels.SelectMany(l => l).Select(l => (int)l), Enumerable.Range(0, data.Count(Split.Train)).Select(i => data.Label(Split.Train, i)));
        Assert.Equal(TestLabels.Select(l => (int)l), Enumerable.Range(0, data.Count(Split.Test)).Select(i => data.Label(Split.Test, i)));
        Assert.Equal([0], data.ClassIndices(Split.Train, 6));
        Assert.Equal([4, 5], data.ClassIndices(Split.Train, 1));
    }

    [Fact]
    public void Cifar10_pixels_keep_their_channel_major_layout()
    {
        var data = CifarFiles.Load10("cifar10", WriteCifar10(_dir));

        AssertPixels(data, Split.Train, 7);
        AssertPixels(data, Split.Test, 3);
    }

    [Fact]
    public void Cifar10_files_in_the_archive_subfolder_are_found()
    {
        WriteCifar10(Path.Combine(_dir, "cifar-10-batches-bin"));

        var data = CifarFiles.Load10("cifar10", _dir);

        Assert.Equal(7, data.Count(Split.Train));
        Assert.Equal(3, data.Count(Split.Test));
    }

    [Fact]
    public void Cifar100_uses_the_fine_label_not_the_coarse_one()
    {
        var data = CifarFiles.Load100("cifar100", WriteCifar100(_dir, [99, 0, 42, 17], [63, 5]));

        Assert.Equal(100, data.NumClasses);
        Assert.Equal([99, 0, 42, 17], Enumerable.Range(0, 4).Select(i => data.Label(Split.Train, i)));
        Assert.Equal([63, 5], Enumerable.Range(0, 2).Select(i => data.Label(Split.Test, i)));
        Assert.Equal([2], data.ClassIndices(Split.Train, 42));
        AssertPixels(data, Split.Train, 4);
        AssertPixels(data, Split.Test, 2);
    }

    [Fact]
    public void Cifar100_files_in_the_archive_subfolder_are_found()
    {
        WriteCifar100(Path.Combine(_dir, "cifar-100-binary"), [1, 2, 3], [4]);

        var data = CifarFiles.Load100("cifar100", _dir);

        Assert.Equal(3, data.Count(Split.Train));
        Assert.Equal(1, data.Count(Split.Test));
    }

    [Fact]
    public void Truncated_cifar_record_is_reported_with_the_file()
    {
        WriteCifar10(_dir);
        string batch = Path.Combine(_dir, "data_batch_3.bin");
        File.WriteAllBytes(batch, File.ReadAllBytes(batch)[..^10]);

        var e = Assert.Throws<InputException>(() => CifarFiles.Load10("cifar10", _dir));

        Assert.Contains($"{batch} is truncated", e.Message, StringComparison.Ordinal);
        Assert.Contains("3073-byte", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_cifar100_file_is_reported_with_its_record_size()
    {
        WriteCifar100(_dir, [1, 2, 3], [4]);
        string train = Path.Combine(_dir, "train.bin");
        File.WriteAllBytes(train, File.ReadAllBytes(train)[..^3]);

        var e = Assert.Throws<InputException>(() => CifarFiles.Load100("cifar100", _dir));

        Assert.Contains($"{train} is truncated", e.Message, StringComparison.Ordinal);
        Assert.Contains("3074-byte", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Label_out_of_range_is_reported_with_the_file_and_record()
    {
        WriteCifar10(_dir);
        string test = Path.Combine(_dir, "test_batch.bin");
        File.WriteAllBytes(test, Records([([3], Image(Split.Test, 0)), ([10], Image(Split.Test, 1))]));

        var e = Assert.Throws<InputException>(() => CifarFiles.Load10("cifar10", _dir));

        Assert.Contains($"{test}: record 1 has label 10", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_cifar_files_are_listed()
    {
        WriteCifar10(_dir);
        File.Delete(Path.Combine(_dir, "data_batch_4.bin"));
        File.Delete(Path.Combine(_dir, "test_batch.bin"));

        var e = Assert.Throws<InputException>(() => CifarFiles.Load10("cifar10", _dir));

        Assert.Contains("data_batch_4.bin, test_batch.bin", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("data_batch_1.bin", e.Message, StringComparison.Ordinal);
        Assert.Contains("cifar-10-binary.tar.gz", e.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_cifar_folder_is_reported()
    {
        string folder = Path.Combine(_dir, "absent");

        var e = Assert.Throws<InputException>(() => CifarFiles.Load100("cifar100", folder));

        Assert.Contains(folder, e.Message, StringComparison.Ordinal);
        Assert.Contains("cifar-100-binary.tar.gz", e.Fix, StringComparison.Ordinal);
    }
}
