using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DefenseBench.Core.Components;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Federation;

/// <summary>One tensor of a safetensors file: its dtype ("F32" or "F64"), shape and raw little-endian bytes.</summary>
public sealed record SafeTensor(string Name, string DType, long[] Shape, ReadOnlyMemory<byte> Data)
{
    /// <summary>Where the tensor's bytes start in the file's data section.</summary>
    public long Offset { get; init; }

    public long ElementCount => SafeTensorsFile.ElementCount(Shape) ?? throw new OverflowException($"tensor '{Name}' has more elements than 64 bits count");

    /// <summary>The index of the first NaN or infinite value, or -1 when every value is finite.</summary>
    public long FirstNonFinite()
    {
        var bytes = Data.Span;
        long n = ElementCount;
        for (int i = 0; i < n; i++)
        {
            bool finite = DType == "F64"
                ? double.IsFinite(BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]))
                : float.IsFinite(BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]));
            if (!finite) return i;
        }
        return -1;
    }

    /// <summary>The values as a tensor of the file's dtype on <paramref name="device"/>.</summary>
    public Tensor ToTensor(Device device)
    {
        var bytes = Data.Span;
        if (DType == "F64")
        {
            var values = new double[ElementCount];
            for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]);
            return torch.tensor(values, Shape, dtype: ScalarType.Float64, device: device);
        }
        return torch.tensor(Floats(), Shape, dtype: ScalarType.Float32, device: device);
    }

    /// <summary>The values of an F32 tensor, in file order.</summary>
    public float[] Floats()
    {
        var bytes = Data.Span;
        var floats = new float[ElementCount];
        for (int i = 0; i < floats.Length; i++) floats[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
        return floats;
    }
}

/// <summary>
/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// mapping each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets into the data that follows the
/// header) plus an optional "__metadata__" map of strings, then the raw little-endian data. Read and written here in
/// plain C# so captured updates can be audited without Python. Only float32 ("F32") and float64 ("F64") tensors are
/// read, since those are what gradients are shipped in.
/// </summary>
public sealed class SafeTensorsFile(IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata)
{
    public const string MetadataKey = "__metadata__";
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly Dictionary<string, int> DTypeSizes = new(StringComparer.Ordinal) { ["F32"] = 4, ["F64"] = 8 };

    public IReadOnlyList<SafeTensor> Tensors { get; } = tensors;
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;

    public SafeTensor? Find(string name) => Tensors.FirstOrDefault(t => t.Name == name);

    /// <summary>Reads and validates a file; every problem is an <see cref="InputException"/> naming the file and what is wrong.</summary>
    public static SafeTensorsFile Read(string path)
    {
        if (Directory.Exists(path)) throw Bad(path, "is a folder, not a file", "give the path of a .safetensors file (e.g. one written by run --export-updates into that folder)");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Bad(path, $"cannot be read ({e.Message})", "give the path of a readable .safetensors file");
        }
        return Parse(bytes, path);
    }

    public static SafeTensorsFile Parse(byte[] bytes, string path)
    {
        if (bytes.Length < 8) throw Bad(path, $"is truncated: {bytes.Length} bytes, fewer than the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
            throw Bad(path, $"is truncated: the header length says {headerLength} bytes but only {bytes.Length - 8} follow");
        if (headerLength > int.MaxValue - 8) throw Bad(path, $"declares a {headerLength}-byte header, more than this reader takes");
        int dataStart = 8 + (int)headerLength;
        try
        {
            StrictUtf8.GetCharCount(bytes, 8, (int)headerLength);
        }
        catch (DecoderFallbackException e)
        {
            throw Bad(path, $"has a header that is not valid UTF-8 (at header byte {e.Index})");
        }
        JsonElement header;
        try
        {
            header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength)).RootElement;
        }
        catch (JsonException e)
        {
            throw Bad(path, $"has a header that is not valid JSON ({e.Message})");
        }
        if (header.ValueKind != JsonValueKind.Object) throw Bad(path, "has a header that is not a JSON object");

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new List<SafeTensor>();
        long dataLength = bytes.Length - dataStart;
        foreach (var entry in header.EnumerateObject())
        {
            if (entry.Name == MetadataKey)
            {
                if (entry.Value.ValueKind != JsonValueKind.Object) throw Bad(path, $"has a {MetadataKey} that is not a map of strings");
                foreach (var m in entry.Value.EnumerateObject())
                    metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                continue;
            }
            if (tensors.Any(t => t.Name == entry.Name)) throw Bad(path, $"describes tensor '{entry.Name}' twice");
            tensors.Add(ParseTensor(entry, bytes, dataStart, dataLength, path));
        }
        CheckLayout(tensors, dataLength, path);
        return new SafeTensorsFile(tensors, metadata);
    }

    /// <summary>
    /// As the reference reader does: taken in order of their offsets, the tensors' byte ranges follow one another with
    /// no overlap and no gap and cover the data section exactly; and each starts at a multiple of its element size.
    /// Two tensors sharing bytes would let one crafted file feed an attack the same numbers under two names.
    /// </summary>
    private static void CheckLayout(List<SafeTensor> tensors, long dataLength, string path)
    {
        long end = 0;
        string? previous = null;
        foreach (var (t, begin) in tensors.Select(t => (t, Begin: t.Offset)).OrderBy(x => x.Begin).ThenBy(x => x.t.Data.Length))
        {
            if (begin % DTypeSizes[t.DType] != 0)
                throw Bad(path, $"places tensor '{t.Name}' at data byte {begin}, not a multiple of its {DTypeSizes[t.DType]}-byte elements (unaligned)");
            if (begin < end)
                throw Bad(path, $"gives tensor '{t.Name}' bytes [{begin}, {begin + t.Data.Length}) that overlap those of '{previous}' (which end at {end})");
            if (begin > end)
                throw Bad(path, $"leaves data bytes [{end}, {begin}) before tensor '{t.Name}' to no tensor (ranges out of order or with a gap)");
            end = begin + t.Data.Length;
            previous = t.Name;
        }
        if (end != dataLength)
            throw Bad(path, $"has {dataLength - end} data bytes after the last tensor's range that belong to no tensor");
    }

    /// <summary>The product of the dimensions, or null when it does not fit in 64 bits.</summary>
    public static long? ElementCount(IEnumerable<long> shape)
    {
        long n = 1;
        try
        {
            foreach (long d in shape) n = checked(n * d);
        }
        catch (OverflowException)
        {
            return null;
        }
        return n;
    }

    private static SafeTensor ParseTensor(JsonProperty entry, byte[] bytes, int dataStart, long dataLength, string path)
    {
        string name = entry.Name;
        var value = entry.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtypeNode) || dtypeNode.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out var shapeNode) || shapeNode.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out var offsetsNode) || offsetsNode.ValueKind != JsonValueKind.Array || offsetsNode.GetArrayLength() != 2)
            throw Bad(path, $"describes tensor '{name}' without a dtype string, a shape list and two data_offsets");
        string dtype = dtypeNode.GetString()!;
        if (!DTypeSizes.TryGetValue(dtype, out int size))
            throw Bad(path, $"holds tensor '{name}' as {dtype}", "export gradients as float32 (F32) or float64 (F64)");
        long[] shape = shapeNode.EnumerateArray().Select(d => d.TryGetInt64(out long v) && v >= 0 ? v : -1).ToArray();
        long[] offsets = offsetsNode.EnumerateArray().Select(d => d.TryGetInt64(out long v) ? v : -1).ToArray();
        if (shape.Any(d => d < 0)) throw Bad(path, $"gives tensor '{name}' a shape that is not a list of non-negative integers");
        if (offsets[0] < 0 || offsets[1] < offsets[0]) throw Bad(path, $"gives tensor '{name}' data_offsets [{offsets[0]}, {offsets[1]}] that are not a range");
        if (offsets[1] > dataLength)
            throw Bad(path, $"is truncated: tensor '{name}' ends at data byte {offsets[1]} but the data section has {dataLength} bytes");
        long? count = ElementCount(shape);
        if (count == null || count > long.MaxValue / size)
            throw Bad(path, $"gives tensor '{name}' the shape [{string.Join(", ", shape)}], whose element count overflows 64 bits");
        long expected = count.Value * size;
        if (offsets[1] - offsets[0] != expected)
            throw Bad(path, string.Create(CultureInfo.InvariantCulture,
                $"gives tensor '{name}' {offsets[1] - offsets[0]} bytes but its shape [{string.Join(", ", shape)}] of {dtype} needs {expected}"));
        return new SafeTensor(name, dtype, shape, bytes.AsMemory(dataStart + (int)offsets[0], (int)expected)) { Offset = offsets[0] };
    }

    /// <summary>
    /// Writes float32 and float64 tensors in the given order with string metadata; the header is padded with spaces
    /// to a multiple of 8 bytes, as the reference implementation does, so the data is aligned.
    /// </summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Value)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var blobs = new List<(string Name, string DType, long[] Shape, byte[] Data)>();
        foreach (var (name, tensor) in tensors)
        {
            var host = tensor.detach().cpu().contiguous();
            byte[] data;
            string dtype;
            if (host.dtype == ScalarType.Float64)
            {
                var values = host.data<double>().ToArray();
                data = new byte[values.Length * 8];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8 * i), values[i]);
                dtype = "F64";
            }
            else
            {
                var values = host.to(ScalarType.Float32).data<float>().ToArray();
                data = new byte[values.Length * 4];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4 * i), values[i]);
                dtype = "F32";
            }
            blobs.Add((name, dtype, host.shape, data));
        }

        // Wider elements first, as the reference writer does, so every tensor starts at a multiple of its element size.
        blobs = [.. blobs.OrderByDescending(b => b.DType == "F64")];
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape, data) in blobs)
            {
                writer.WriteStartObject(name);
                writer.WriteString("dtype", dtype);
                writer.WriteStartArray("shape");
                foreach (long d in shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + data.Length);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += data.Length;
            }
            writer.WriteEndObject();
        }
        var header = new List<byte>(json.ToArray());
        while (header.Count % 8 != 0) header.Add((byte)' ');

        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Count);
        file.Write(length);
        file.Write(header.ToArray());
        foreach (var blob in blobs) file.Write(blob.Data);
    }

    private static InputException Bad(string path, string problem, string? fix = null) =>
        new($"{path} {problem}", fix ?? "give a safetensors file (8-byte little-endian header length, JSON header, raw data) as written by safetensors.torch.save_file");
}
