using System.Buffers.Binary;
using System.Text;
using DefenseBench.Core.Components;
using DefenseBench.Core.Federation;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Tests.Federation;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("defensebench-safetensors-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    /// <summary>A file laid out by hand from the format description, independent of our writer.</summary>
    private static byte[] HandMade(string header, params byte[][] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Sum(d => d.Length)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        int at = 8 + json.Length;
        foreach (var d in data)
        {
            d.CopyTo(bytes, at);
            at += d.Length;
        }
        return bytes;
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    [Fact]
    public void A_hand_made_file_with_metadata_loads_its_values_shapes_and_strings()
    {
        using var scope = torch.NewDisposeScope();
        var bytes = HandMade(
            """{"__metadata__":{"batch_size":"24"},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""",
            Floats(1, -2, 3.5f, 4), Floats(0.25f, -8));

        var file = SafeTensorsFile.Parse(bytes, "h.safetensors");

        Assert.Equal("24", file.Metadata["batch_size"]);
        Assert.Equal([2L, 2], file.Find("w")!.Shape);
        Assert.Equal([1f, -2, 3.5f, 4], file.Find("w")!.ToTensor(torch.CPU).flatten().data<float>().ToArray());
        Assert.Equal([0.25f, -8], file.Find("b")!.ToTensor(torch.CPU).data<float>().ToArray());
    }

    [Theory]
    [InlineData(ScalarType.Float32, "F32")]
    [InlineData(ScalarType.Float64, "F64")]
    public void Written_tensors_read_back_bit_identical_in_their_dtype(ScalarType type, string dtype)
    {
        using var scope = torch.NewDisposeScope();
        var w = torch.randn([10, 84], generator: new Generator(1, torch.CPU)).to(type);
        var b = torch.randn([10], generator: new Generator(2, torch.CPU)).to(type);
        string path = PathOf("u.safetensors");

        SafeTensorsFile.Write(path, [("fc.weight", w), ("fc.bias", b)], new Dictionary<string, string> { ["batch_size"] = "8", ["num_classes"] = "10" });
        var file = SafeTensorsFile.Read(path);

        Assert.Equal(["fc.weight", "fc.bias"], file.Tensors.Select(t => t.Name));
        Assert.All(file.Tensors, t => Assert.Equal(dtype, t.DType));
        Assert.True(w.eq(file.Find("fc.weight")!.ToTensor(torch.CPU)).all().item<bool>());
        Assert.True(b.eq(file.Find("fc.bias")!.ToTensor(torch.CPU)).all().item<bool>());
        Assert.Equal("8", file.Metadata["batch_size"]);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(path)) % 8);
    }

    [Theory]
    [InlineData("truncated", "fewer than the 8-byte header length")]
    [InlineData("header-past-end", "the header length says")]
    [InlineData("data-past-end", "ends at data byte 16")]
    [InlineData("not-json", "not valid JSON")]
    [InlineData("wrong-size", "needs 16")]
    [InlineData("int8", "as I8")]
    [InlineData("no-shape", "without a dtype string, a shape list and two data_offsets")]
    public void A_bad_file_is_an_input_error_naming_the_file_and_the_problem(string kind, string problem)
    {
        byte[] good = HandMade("""{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", Floats(1, 2, 3, 4));
        byte[] bytes = kind switch
        {
            "truncated" => good[..5],
            "header-past-end" => good[..20],
            "data-past-end" => good[..^4],
            "not-json" => HandMade("{\"w\": [1,", Floats(1)),
            "wrong-size" => HandMade("""{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}""", Floats(1, 2, 3, 4)),
            "int8" => HandMade("""{"w":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}}""", [1, 2, 3, 4]),
            _ => HandMade("""{"w":{"dtype":"F32","data_offsets":[0,16]}}""", Floats(1, 2, 3, 4)),
        };

        var e = Assert.Throws<InputException>(() => SafeTensorsFile.Parse(bytes, "bad.safetensors"));

        Assert.Contains("bad.safetensors", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.NotNull(e.Fix);
    }
}
