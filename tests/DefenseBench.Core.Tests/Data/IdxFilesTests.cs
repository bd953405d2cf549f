using System.Buffers.Binary;
using System.IO.Compression;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;

namespace DefenseBench.Core.Tests.Data;

public sealed class IdxFilesTests : IDisposable
{
    private const int Size = 28 * 28;
    private static readonly byte[] TrainLabels = [3, 1, 4, 1, 5, 9, 2];
    private static readonly byte[] TestLabels = [2, 7, 1];
    private readonly string _dir = Directory.CreateTempSubdirectory("idx-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Pixel p of image i of a split; the two splits differ by an offset so they cannot be confused.</summary>
    private static byte Pixel(Split split, int i, int p) => (byte)((i * 31 + p + (split == Split.Test ? 100 : 0)) % 256);

    private static byte[] Images(Split split, int count) =>
        [.. Enumerable.Range(0, count).SelectMany(i => Enumerable.Range(0, Size).Select(p => Pixel(split, i, p)))];

    private static byte[] ImagesFile(byte[] pixels)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(header, 0x00000803);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)(pixels.Length / Size));
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), 28);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(12), 28);
        return [.. header, .. pixels];
    }

    private static byte[] LabelsFile(byte[] labels)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, 0x00000801);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)labels.Length);
        return [.. header, .. labels];
    }

    private static byte[] Gzip(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest)) gzip.Write(data);
        return buffer.ToArray();
    }

    /// <summary>Writes the four files (7 train, 3 test images) into <paramref name="dir"/>, raw or gzipped.</summary>
    private static string WriteDataset(string dir, bool gzip = false, string separator = "-")
    {
        Directory.CreateDirectory(dir);
        string ext = gzip ? ".gz" : "";
        Write(Path.Combine(dir, $"train-images{separator}idx3-ubyte{ext}"), ImagesFile(Images(Split.Train, 7)), gzip);
        Write(Path.Combine(dir, $"train-labels{separator}idx1-ubyte{ext}"), LabelsFile(TrainLabels), gzip);
        Write(Path.Combine(dir, $"t10k-images{separator}idx3-ubyte{ext}"), ImagesFile(Images(Split.Test, 3)), gzip);
        Write(Path.Combine(dir, $"t10k-labels{separator}idx1-ubyte{ext}"), LabelsFile(TestLabels), gzip);
        return dir;
    }

    private static void Write(string path, byte[] data, bool gzip) => File.WriteAllBytes(path, gzip ? Gzip(data) : data);

    private static void AssertHoldsFixture(IImageDataset data)
    {
        Assert.Equal(ImageShape.Mnist, data.Shape);
        Assert.Equal(10, data.NumClasses);
        foreach (var (split, labels) in new[] { (Split.Train, TrainLabels), (Split.Test, TestLabels) })
        {
            Assert.Equal(labels.Length, data.Count(split));
            var pixels = new float[Size];
            for (int i = 0; i < labels.Length; i++)
            {
                Assert.Equal(labels[i], data.Label(split, i));
                data.Read(split, i, pixels);
                for (int p = 0; p < Size; p++) Assert.Equal(Pixel(split, i, p) / 255f, pixels[p], 1e-6f);
            }
        }
    }

    [Fact]
    public void Raw_idx_files_load_with_exact_pixels_and_labels()
    {
        var data = IdxFiles.Load("mnist:x", WriteDataset(_dir), IdxFiles.Mnist);

        Assert.Equal("mnist:x", data.Name);
        AssertHoldsFixture(data);
    }

    [Fact]
    public void Gzipped_and_raw_idx_files_load_the_same_images()
    {
        var raw = IdxFiles.Load("raw", WriteDataset(Path.Combine(_dir, "raw-files")), IdxFiles.Mnist);
        var gz = IdxFiles.Load("gz", WriteDataset(Path.Combine(_dir, "gz-files"), gzip: true), IdxFiles.Mnist);

        AssertHoldsFixture(gz);
        var a = new float[Size];
        var b = new float[Size];
        for (int i = 0; i < raw.Count(Split.Train); i++)
        {
            raw.Read(Split.Train, i, a);
            gz.Read(Split.Train, i, b);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void Gzipped_content_is_recognised_even_without_the_gz_name()
    {
        WriteDataset(_dir);
        string images = Path.Combine(_dir, "train-images-idx3-ubyte");
        File.WriteAllBytes(images, Gzip(File.ReadAllBytes(images)));

        AssertHoldsFixture(IdxFiles.Load("mnist", _dir, IdxFiles.Mnist));
    }

    [Fact]
    public void File_names_with_a_dot_before_idx_are_accepted()
    {
        AssertHoldsFixture(IdxFiles.Load("mnist", WriteDataset(_dir, separator: "."), IdxFiles.Mnist));
    }

    [Fact]
    public void Files_in_the_torchvision_raw_subfolder_are_found()
    {
        WriteDataset(Path.Combine(_dir, "raw"), gzip: true);

        AssertHoldsFixture(IdxFiles.Load("mnist", _dir, IdxFiles.Mnist));
    }

    [Fact]
    public void Class_indices_list_the_images_of_each_label_in_order()
    {
        var data = IdxFiles.Load("mnist", WriteDataset(_dir), IdxFiles.FashionMnist);

        Assert.Equal([1, 3], data.ClassIndices(Split.Train, 1));
        Assert.Equal([5], data.ClassIndices(Split.Train, 9));
        Assert.Empty(data.ClassIndices(Split.Train, 0));
        Assert.Equal([2], data.ClassIndices(Split.Test, 1));
    }

    [Fact]
    public void Truncated_images_file_is_reported_with_its_name()
    {
        WriteDataset(_dir);
        string images = Path.Combine(_dir, "t10k-images-idx3-ubyte");
        File.WriteAllBytes(images, File.ReadAllBytes(images)[..^100]);

        var e = Assert.Throws<InputException>(() => IdxFiles.Load("mnist", _dir, IdxFiles.Mnist));

        Assert.Contains(images, e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.NotNull(e.Fix);
    }

    [Fact]
    public void Truncated_gzipped_labels_file_is_reported_with_its_name()
    {
        WriteDataset(_dir, gzip: true);
        string labels = Path.Combine(_dir, "train-labels-idx1-ubyte.gz");
        File.WriteAllBytes(labels, Gzip(LabelsFile(TrainLabels)[..^2]));

        var e = Assert.Throws<InputException>(() => IdxFiles.Load("mnist", _dir, IdxFiles.Mnist));

        Assert.Contains(labels, e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_ending_inside_its_header_is_truncated()
    {
        WriteDataset(_dir);
        string labels = Path.Combine(_dir, "train-labels-idx1-ubyte");
        File.WriteAllBytes(labels, [0, 0, 8]);

        var e = Assert.Throws<InputException>(() => IdxFiles.Load("mnist", _dir, IdxFiles.Mnist));

        Assert.Contains($"{labels} is truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_magic_number_is_reported_with_the_file()
    {
        WriteDataset(_dir);
        string images = Path.Combine(_dir, "train-images-idx3-ubyte");
        File.WriteAllBytes(images, LabelsFile(TrainLabels));

        var e = Assert.Throws<InputException>(() => IdxFiles.Load("mnist", _dir, IdxFiles.Mnist));

        Assert.Contains(images, e.Message, StringComparison.Ordinal);
        Assert.Contains("0x00000801", e.Message, StringComparison.Ordinal);
        Assert.Contains("0x00000803", e.Message, StringComparison.Ordinal);
        Assert.Contains("labels file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Images_of_another_size_are_rejected()
    {
        WriteDataset(_dir);
        string images = Path.Combine(_dir, "t10k-images-idx3-ubyte");
        byte[] file = ImagesFile(Images(Split.Test, 3));
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(8), 32);
        File.WriteAllBytes(images, file);

        var e = Assert.Throws<InputException>(() => IdxFiles.Load("mnist", _dir, IdxFiles.Mnist));

        Assert.Contains("32x28", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_lists_the_names_looked_for()
    {
        WriteDataset(_dir);
        File.Delete(Path.Combine(_dir, "t10k-labels-idx1-ubyte"));

        var e = Assert.Throws<InputException>(() => IdxFiles.Load("mnist", _dir, IdxFiles.FashionMnist));

        Assert.Contains("Fashion-MNIST", e.Message, StringComparison.Ordinal);
        foreach (string name in new[] { "t10k-labels-idx1-ubyte", "t10k-labels-idx1-ubyte.gz", "t10k-labels.idx1-ubyte", "t10k-labels.idx1-ubyte.gz" })
            Assert.Contains(name, e.Message, StringComparison.Ordinal);
        Assert.Contains(_dir, e.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_folder_says_which_files_to_download_where()
    {
        string folder = Path.Combine(_dir, "absent");

        var e = Assert.Throws<InputException>(() => IdxFiles.Load("mnist", folder, IdxFiles.Mnist));

        Assert.Contains(folder, e.Message, StringComparison.Ordinal);
        Assert.Contains($"download the four MNIST files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) into {folder} (raw or .gz)", e.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Image_and_label_counts_must_match()
    {
        WriteDataset(_dir);
        string labels = Path.Combine(_dir, "train-labels-idx1-ubyte");
        File.WriteAllBytes(labels, LabelsFile(TrainLabels[..6]));

        var e = Assert.Throws<InputException>(() => IdxFiles.Load("mnist", _dir, IdxFiles.Mnist));

        Assert.Contains("7 images", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{labels} holds 6 labels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Labels_of_ten_or_more_are_rejected_with_their_index()
    {
        WriteDataset(_dir);
        string labels = Path.Combine(_dir, "t10k-labels-idx1-ubyte");
        File.WriteAllBytes(labels, LabelsFile([2, 10, 1]));

        var e = Assert.Throws<InputException>(() => IdxFiles.Load("mnist", _dir, IdxFiles.Mnist));

        Assert.Contains($"{labels}: label 10 at index 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trailing_bytes_after_the_promised_images_are_rejected()
    {
        WriteDataset(_dir);
        string images = Path.Combine(_dir, "train-images-idx3-ubyte");
        File.WriteAllBytes(images, [.. ImagesFile(Images(Split.Train, 7)), 0]);

        var e = Assert.Throws<InputException>(() => IdxFiles.Load("mnist", _dir, IdxFiles.Mnist));

        Assert.Contains($"{images} is longer than its header says", e.Message, StringComparison.Ordinal);
    }
}
