using System.Buffers.Binary;
using System.IO.Compression;
using DefenseBench.Core.Components;

namespace DefenseBench.Core.Data;

/// <summary>An MNIST-like IDX dataset: its name in messages and how many classes its labels span.</summary>
public sealed record IdxLayout(string DisplayName, int NumClasses);

/// <summary>
/// Reads MNIST and Fashion-MNIST from their four IDX files, raw or gzipped. An IDX file is a big-endian header (a
/// magic number whose third byte is the value type and whose fourth is the number of dimensions, then one 32-bit size
/// per dimension) followed by the values in row-major order.
/// </summary>
public static class IdxFiles
{
    public static readonly IdxLayout Mnist = new("MNIST", 10);
    public static readonly IdxLayout FashionMnist = new("Fashion-MNIST", 10);

    // 0x08 = unsigned bytes; 3 dimensions (count, rows, columns) for images, 1 (count) for labels.
    private const uint ImagesMagic = 0x00000803;
    private const uint LabelsMagic = 0x00000801;
    private const uint Side = 28;

    /// <summary>Where torchvision keeps the IDX files below its dataset folder.</summary>
    private const string TorchvisionSubfolder = "raw";

    private static readonly string[] StandardNames =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    public static ByteImageDataset Load(string name, string folder, IdxLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (!Directory.Exists(folder))
            throw new InputException($"{layout.DisplayName} folder {folder} does not exist", DownloadFix(layout, folder));
        var (trainPixels, trainLabels) = ReadSplit(folder, "train", layout);
        var (testPixels, testLabels) = ReadSplit(folder, "t10k", layout);
        return new ByteImageDataset(name, ImageShape.Mnist, layout.NumClasses, trainPixels, trainLabels, testPixels, testLabels);
    }

    private static (byte[] Pixels, byte[] Labels) ReadSplit(string folder, string prefix, IdxLayout layout)
    {
        string imagesPath = Find(folder, prefix, "images", "idx3", layout);
        string labelsPath = Find(folder, prefix, "labels", "idx1", layout);
        byte[] pixels = ReadIdx(imagesPath, ImagesMagic, [Side, Side], "images", layout);
        byte[] labels = ReadIdx(labelsPath, LabelsMagic, [], "labels", layout);
        int images = pixels.Length / ImageShape.Mnist.Size;
        if (images != labels.Length)
            throw new InputException($"{imagesPath} holds {images} images but {labelsPath} holds {labels.Length} labels",
                $"take both files from the same {layout.DisplayName} download; {DownloadFix(layout, folder)}");
        CheckLabels(labelsPath, labels, layout);
        return (pixels, labels);
    }

    /// <summary>
    /// The first existing spelling of one file: the standard name, the common variant with a dot before "idx", each
    /// raw or with ".gz"; in the folder itself or in its torchvision "raw" subfolder.
    /// </summary>
    private static string Find(string folder, string prefix, string kind, string idx, IdxLayout layout)
    {
        string[] names =
        [
            $"{prefix}-{kind}-{idx}-ubyte", $"{prefix}-{kind}-{idx}-ubyte.gz",
            $"{prefix}-{kind}.{idx}-ubyte", $"{prefix}-{kind}.{idx}-ubyte.gz",
        ];
        string[] folders = [folder, Path.Combine(folder, TorchvisionSubfolder)];
        string? found = folders.SelectMany(f => names.Select(n => Path.Combine(f, n))).FirstOrDefault(File.Exists);
        return found ?? throw new InputException(
            $"{layout.DisplayName} file {names[0]} is missing from {folder} (looked for {string.Join(", ", names)}, also in {TorchvisionSubfolder}/)",
            DownloadFix(layout, folder));
    }

    private static string DownloadFix(IdxLayout layout, string folder) =>
        $"download the four {layout.DisplayName} files ({string.Join(", ", StandardNames)}) into {folder} (raw or .gz)";

    /// <summary>Reads an IDX file of unsigned bytes whose items have the sizes <paramref name="itemDims"/>.</summary>
    private static byte[] ReadIdx(string path, uint magic, uint[] itemDims, string kind, IdxLayout layout)
    {
        try
        {
            using var stream = Open(path);
            return ReadIdx(stream, path, magic, itemDims, kind, layout);
        }
        catch (InvalidDataException e)
        {
            throw new InputException($"{path} is not a valid gzip file: {e.Message}", RedownloadFix(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"cannot read {path}: {e.Message}", "check that the file is readable");
        }
    }

    /// <summary>
    /// Opens a file, decompressing it when it is gzip. The content decides, not the name: gzip starts with 1F 8B,
    /// IDX with two zero bytes, and browsers sometimes unpack a download but keep its ".gz".
    /// </summary>
    private static Stream Open(string path)
    {
        var file = File.OpenRead(path);
        Span<byte> start = stackalloc byte[2];
        bool gzip = file.ReadAtLeast(start, 2, throwOnEndOfStream: false) == 2 && start[0] == 0x1F && start[1] == 0x8B;
        file.Position = 0;
        return gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    private static byte[] ReadIdx(Stream stream, string path, uint magic, uint[] itemDims, string kind, IdxLayout layout)
    {
        int headerLength = 4 * (2 + itemDims.Length);
        Span<byte> header = stackalloc byte[headerLength];
        // The magic number is checked first, so a file of the wrong kind is named as such even when it is short.
        ReadHeader(stream, header[..4], path, headerLength);
        CheckMagic(path, BinaryPrimitives.ReadUInt32BigEndian(header), magic, kind, layout);
        ReadHeader(stream, header[4..], path, headerLength);
        uint count = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        var dims = new uint[itemDims.Length];
        for (int d = 0; d < dims.Length; d++) dims[d] = BinaryPrimitives.ReadUInt32BigEndian(header[(8 + 4 * d)..]);
        if (!dims.SequenceEqual(itemDims))
            throw new InputException($"{path} holds {kind} of size {string.Join("x", dims)}, not {string.Join("x", itemDims)}",
                $"use the {layout.DisplayName} files, whose images are {Side}x{Side}");
        long itemSize = itemDims.Aggregate(1L, (a, b) => a * b);
        return ReadBody(stream, path, count, itemSize, headerLength, kind);
    }

    private static void ReadHeader(Stream stream, Span<byte> part, string path, int headerLength)
    {
        if (stream.ReadAtLeast(part, part.Length, throwOnEndOfStream: false) < part.Length)
            throw new InputException($"{path} is truncated: it ends inside its {headerLength}-byte IDX header", RedownloadFix(path));
    }

    private static void CheckMagic(string path, uint found, uint expected, string kind, IdxLayout layout)
    {
        if (found == expected) return;
        string hint = found switch
        {
            ImagesMagic => " (it looks like an images file)",
            LabelsMagic => " (it looks like a labels file)",
            _ => "",
        };
        throw new InputException($"{path} is not an IDX {kind} file: it starts with 0x{found:X8}, expected 0x{expected:X8}{hint}",
            $"check that this is the {layout.DisplayName} {kind} file it is named as; {RedownloadFix(path)}");
    }

    private static byte[] ReadBody(Stream stream, string path, uint count, long itemSize, int headerLength, string kind)
    {
        long expected = count * itemSize;
        if (expected > Array.MaxLength)
            throw new InputException($"{path}: its header promises {count} {kind}, more than fits in memory", RedownloadFix(path));
        // A raw file's length is known up front, so a truncated one fails before the allocation.
        if (stream.CanSeek && stream.Length - headerLength < expected)
            throw Truncated(path, count, kind, expected, stream.Length - headerLength);
        var body = new byte[expected];
        int read = stream.ReadAtLeast(body, body.Length, throwOnEndOfStream: false);
        if (read < body.Length) throw Truncated(path, count, kind, expected, read);
        if (stream.ReadByte() >= 0)
            throw new InputException($"{path} is longer than its header says ({count} {kind}, {expected} bytes after the header)",
                RedownloadFix(path));
        return body;
    }

    private static InputException Truncated(string path, uint count, string kind, long expected, long available) =>
        new($"{path} is truncated: its header promises {count} {kind} ({expected} bytes) but only {available} bytes follow",
            RedownloadFix(path));

    private static void CheckLabels(string path, byte[] labels, IdxLayout layout)
    {
        int bad = Array.FindIndex(labels, l => l >= layout.NumClasses);
        if (bad >= 0)
            throw new InputException($"{path}: label {labels[bad]} at index {bad} is not below {layout.NumClasses}",
                $"check that this is a {layout.DisplayName} labels file; {RedownloadFix(path)}");
    }

    private static string RedownloadFix(string path) => $"download {Path.GetFileName(path)} again";
}
