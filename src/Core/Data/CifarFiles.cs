using DefenseBench.Core.Components;

namespace DefenseBench.Core.Data;

/// <summary>
/// Reads the binary versions of CIFAR-10 and CIFAR-100. Each file is a plain sequence of fixed-size records: the
/// label byte(s), then 3072 pixel bytes, channel-major (1024 red, 1024 green, 1024 blue, each row-major), which is
/// already the layout of <see cref="ImageShape.Cifar"/>.
/// </summary>
public static class CifarFiles
{
    private sealed record Layout(
        string DisplayName, int NumClasses, string Subfolder, string Archive, string[] Train, string[] Test,
        int LabelBytes, int LabelOffset)
    {
        public int RecordSize => LabelBytes + ImageShape.Cifar.Size;
        public IEnumerable<string> Files => Train.Concat(Test);
    }

    // CIFAR-10 records: <label> <3072 pixels>.
    private static readonly Layout Cifar10 = new("CIFAR-10", 10, "cifar-10-batches-bin", "cifar-10-binary.tar.gz",
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"],
        ["test_batch.bin"], LabelBytes: 1, LabelOffset: 0);

    // CIFAR-100 records: <coarse label (20 superclasses)> <fine label (100 classes)> <3072 pixels>; the fine one counts.
    private static readonly Layout Cifar100 = new("CIFAR-100", 100, "cifar-100-binary", "cifar-100-binary.tar.gz",
        ["train.bin"], ["test.bin"], LabelBytes: 2, LabelOffset: 1);

    public static ByteImageDataset Load10(string name, string folder) => Load(name, folder, Cifar10);

    public static ByteImageDataset Load100(string name, string folder) => Load(name, folder, Cifar100);

    private static ByteImageDataset Load(string name, string folder, Layout layout)
    {
        string dir = Locate(folder, layout);
        var (trainPixels, trainLabels) = ReadFiles(dir, layout.Train, layout);
        var (testPixels, testLabels) = ReadFiles(dir, layout.Test, layout);
        return new ByteImageDataset(name, ImageShape.Cifar, layout.NumClasses, trainPixels, trainLabels, testPixels, testLabels);
    }

    /// <summary>The folder itself, or the subfolder the official archive unpacks to, whichever holds every file.</summary>
    private static string Locate(string folder, Layout layout)
    {
        if (!Directory.Exists(folder))
            throw new InputException($"{layout.DisplayName} folder {folder} does not exist", DownloadFix(layout, folder));
        string sub = Path.Combine(folder, layout.Subfolder);
        string? found = new[] { folder, sub }.FirstOrDefault(d => layout.Files.All(f => File.Exists(Path.Combine(d, f))));
        if (found != null) return found;
        string nearest = Directory.Exists(sub) ? sub : folder;
        var missing = layout.Files.Where(f => !File.Exists(Path.Combine(nearest, f)));
        throw new InputException(
            $"{layout.DisplayName} files are missing from {nearest}: {string.Join(", ", missing)} (looked in {folder} and its subfolder {layout.Subfolder})",
            DownloadFix(layout, folder));
    }

    private static string DownloadFix(Layout layout, string folder) =>
        $"download the binary version of {layout.DisplayName} ({layout.Archive}, not the Python or MATLAB one) and extract it into {folder}";

    private static (byte[] Pixels, byte[] Labels) ReadFiles(string dir, string[] files, Layout layout)
    {
        string[] paths = files.Select(f => Path.Combine(dir, f)).ToArray();
        int[] counts = paths.Select(p => RecordCount(p, layout)).ToArray();
        long total = counts.Sum(c => (long)c);
        if (total * ImageShape.Cifar.Size > Array.MaxLength)
            throw new InputException($"{layout.DisplayName} files in {dir} hold {total} images, more than fits in memory", DownloadFix(layout, dir));
        var pixels = new byte[total * ImageShape.Cifar.Size];
        var labels = new byte[total];
        int offset = 0;
        for (int i = 0; i < paths.Length; i++)
        {
            ReadRecords(paths[i], counts[i], layout, pixels, labels, offset);
            offset += counts[i];
        }
        return (pixels, labels);
    }

    /// <summary>How many records a file holds; a length that is not a whole number of records means truncation.</summary>
    private static int RecordCount(string path, Layout layout)
    {
        long length = new FileInfo(path).Length;
        if (length == 0 || length % layout.RecordSize != 0)
            throw new InputException(
                $"{path} is truncated: its {length} bytes are not a whole number of {layout.RecordSize}-byte {layout.DisplayName} records",
                $"download and extract {layout.Archive} again");
        return (int)(length / layout.RecordSize);
    }

    private static void ReadRecords(string path, int count, Layout layout, byte[] pixels, byte[] labels, int first)
    {
        int size = ImageShape.Cifar.Size;
        var record = new byte[layout.RecordSize];
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
            for (int i = 0; i < count; i++)
            {
                stream.ReadExactly(record);
                byte label = record[layout.LabelOffset];
                if (label >= layout.NumClasses)
                    throw new InputException($"{path}: record {i} has label {label}, not below {layout.NumClasses}",
                        $"check that this is a {layout.DisplayName} file; download and extract {layout.Archive} again");
                labels[first + i] = label;
                record.AsSpan(layout.LabelBytes).CopyTo(pixels.AsSpan((first + i) * size, size));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"cannot read {path}: {e.Message}", "check that the file is readable");
        }
    }
}
