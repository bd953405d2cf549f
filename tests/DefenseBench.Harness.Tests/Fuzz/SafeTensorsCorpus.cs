using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace DefenseBench.Harness.Tests.Fuzz;

/// <summary>One generated file: its name, its bytes, and the words the error must contain (null: a valid file).</summary>
public sealed record CorpusFile(string Name, byte[] Bytes, string? Expect);

/// <summary>
/// Generates safetensors files of a small last layer (C = 10 classes, d = 8 features, batch size 4), valid and with
/// every header and range defect, non-finite data and overflowing shapes, deterministically from a seed. The audit
/// path (`attack NAME --update FILE`) must answer each with exit 0 or 2, never a stack trace.
/// </summary>
public static class SafeTensorsCorpus
{
    public const int Classes = 10, Features = 8;

    private sealed record Entry(string Name, string DType, long[] Shape, byte[] Data)
    {
        public long[]? Offsets { get; init; }
        public JsonNode? ShapeNode { get; init; }
    }

    private static byte[] Floats(IEnumerable<float> values)
    {
        var list = values.ToArray();
        var bytes = new byte[4 * list.Length];
        for (int i = 0; i < list.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), list[i]);
        return bytes;
    }

    private static List<Entry> Layer(Random rng, int classes = Classes, int features = Features) =>
    [
        new("fc.weight", "F32", [classes, features], Floats(Enumerable.Range(0, classes * features).Select(_ => (float)rng.NextDouble()))),
        new("fc.bias", "F32", [classes], Floats(Enumerable.Repeat(0f, classes))),
        new("grad.fc.weight", "F32", [classes, features], Floats(Enumerable.Range(0, classes * features).Select(_ => (float)rng.NextDouble() - 0.6f))),
        new("grad.fc.bias", "F32", [classes], Floats(Enumerable.Range(0, classes).Select(_ => (float)rng.NextDouble() - 0.5f))),
    ];

    /// <summary>The file bytes: header length, header (padded to 8 bytes unless <paramref name="header"/> is given raw), data.</summary>
    private static byte[] Build(IReadOnlyList<Entry> entries, byte[]? header = null, Dictionary<string, string>? metadata = null, byte[]? tail = null)
    {
        var json = new JsonObject { ["__metadata__"] = new JsonObject((metadata ?? new() { ["batch_size"] = "4" }).Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value))) };
        var data = new List<byte>();
        foreach (var e in entries)
        {
            long[] offsets = e.Offsets ?? [data.Count, data.Count + e.Data.Length];
            json[e.Name] = new JsonObject
            {
                ["dtype"] = e.DType,
                ["shape"] = e.ShapeNode?.DeepClone() ?? new JsonArray(e.Shape.Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(offsets[0], offsets[1]),
            };
            data.AddRange(e.Data);
        }
        if (tail != null) data.AddRange(tail);
        var head = new List<byte>(header ?? Encoding.UTF8.GetBytes(json.ToJsonString()));
        if (header == null) while (head.Count % 8 != 0) head.Add((byte)' ');
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)head.Count);
        return [.. bytes, .. head, .. data];
    }

    private static List<Entry> With(List<Entry> layer, string name, Func<Entry, Entry> change) => layer.Select(e => e.Name == name ? change(e) : e).ToList();

    /// <summary>Every defect once, named; each expects exit 2 with the given words, except "valid".</summary>
    public static IEnumerable<CorpusFile> Defects(int seed = 0)
    {
        var rng = new Random(seed);
        var layer = Layer(rng);
        byte[] valid = Build(layer);
        yield return new("valid", valid, null);
        yield return new("empty", [], "is truncated");
        yield return new("short-length", valid[..5], "is truncated");
        yield return new("header-longer-than-file", valid[..20], "is truncated");
        yield return new("huge-header-length", [.. BitConverter.GetBytes(ulong.MaxValue), .. valid[8..]], "is truncated");
        yield return new("data-cut", valid[..^7], "is truncated");
        yield return new("not-json", Build(layer, Encoding.UTF8.GetBytes("{not json")), "not valid JSON");
        yield return new("json-array", Build(layer, Encoding.UTF8.GetBytes("[1, 2, 3]")), "not a JSON object");
        yield return new("not-utf8", Build(layer, [.. "{\"__metadata__\":{\"batch_size\":\"4\"},\""u8.ToArray(), 0xff, 0xfe, .. "\":{}}"u8.ToArray()]), "not valid UTF-8");
        yield return new("utf8-overlong", Build(layer, [.. "{\""u8.ToArray(), 0xc0, 0xaf, .. "\":1}"u8.ToArray()]), "not valid UTF-8");
        yield return new("metadata-not-map", Build(layer, Encoding.UTF8.GetBytes("{\"__metadata__\":[1]}")), "not a map");
        yield return new("tensor-not-object", Build(layer, Encoding.UTF8.GetBytes("{\"grad.fc.weight\":3}")), "'grad.fc.weight' without a dtype");
        yield return new("bf16", Build(With(layer, "grad.fc.bias", e => e with { DType = "BF16" })), "'grad.fc.bias' as BF16");
        yield return new("i64", Build(With(layer, "grad.fc.bias", e => e with { DType = "I64" })), "'grad.fc.bias' as I64");
        yield return new("negative-dim", Build(With(layer, "grad.fc.bias", e => e with { Shape = [-10] })), "'grad.fc.bias' a shape that is not");
        yield return new("fraction-dim", Build(With(layer, "grad.fc.bias", e => e with { ShapeNode = new JsonArray(2.5) })), "'grad.fc.bias' a shape that is not");
        yield return new("overflowing-shape", Build(With(layer, "grad.fc.bias", e => e with { Shape = [4294967296, 4294967296, 1024], Offsets = [680, 680] })), "overflows 64 bits");
        yield return new("wrapping-shape", Build(With(layer, "grad.fc.bias", e => e with { Shape = [4611686018427387904, 4, 10] })), "overflows 64 bits");
        yield return new("reversed-range", Build(With(layer, "grad.fc.bias", e => e with { Offsets = [720, 680] })), "'grad.fc.bias' data_offsets");
        yield return new("negative-offset", Build(With(layer, "grad.fc.bias", e => e with { Offsets = [-40, 0] })), "'grad.fc.bias' data_offsets");
        yield return new("range-past-end", Build(With(layer, "grad.fc.bias", e => e with { Offsets = [720, 800] })), "'grad.fc.bias' ends at data byte 800");
        yield return new("wrong-byte-count", Build(With(layer, "grad.fc.bias", e => e with { Offsets = [680, 716] })), "'grad.fc.bias' 36 bytes");
        yield return new("overlap", Build(With(layer, "grad.fc.bias", e => e with { Offsets = [0, 40] }), tail: null), "'grad.fc.bias'");
        yield return new("overlap-inside", Build(With(layer, "fc.bias", e => e with { Offsets = [400 + 4, 400 + 44] })), "overlap");
        yield return new("unaligned", Build(With(layer, "fc.bias", e => e with { Offsets = [402, 442] }), tail: [0, 0]), "unaligned");
        yield return new("gap", Build(layer, tail: [1, 2, 3, 4]), "belong to no tensor");
        yield return new("duplicate-name", Build(layer, Encoding.UTF8.GetBytes(
            "{\"grad.fc.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"grad.fc.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}")), "'grad.fc.bias' twice");
        yield return new("nan-gradient", Build(With(layer, "grad.fc.weight", e => e with { Data = Floats(Enumerable.Repeat(float.NaN, Classes * Features)) })), "'grad.fc.weight' holds a non-finite value");
        yield return new("inf-gradient", Build(With(layer, "grad.fc.weight", e => e with { Data = Floats(Enumerable.Range(0, Classes * Features).Select(i => i == 17 ? float.PositiveInfinity : 0.1f)) })), "flat index 17");
        yield return new("nan-bias-gradient", Build(With(layer, "grad.fc.bias", e => e with { Data = Floats(Enumerable.Repeat(float.NaN, Classes)) })), "'grad.fc.bias' holds a non-finite value");
        yield return new("nan-weight", Build(With(layer, "fc.weight", e => e with { Data = Floats(Enumerable.Repeat(float.NegativeInfinity, Classes * Features)) })), "'fc.weight' holds a non-finite value");
        yield return new("zero-classes", Build(Layer(rng, classes: 0)), "'grad.fc.weight' has shape [0, 8]");
        yield return new("zero-features", Build(Layer(rng, features: 0)), "'grad.fc.weight' has shape [10, 0]");
        yield return new("batch-size-text", Build(layer, metadata: new() { ["batch_size"] = "four" }), "batch_size 'four'");
        yield return new("batch-size-zero", Build(layer, metadata: new() { ["batch_size"] = "0" }), "batch_size '0'");
    }

    /// <summary>
    /// Random mutations of a valid file (bytes flipped, cut, duplicated), deterministic per seed: the reader must answer
    /// each with a result or an input error.
    /// </summary>
    public static IEnumerable<CorpusFile> Mutations(int seed, int count)
    {
        var rng = new Random(seed);
        byte[] valid = Build(Layer(rng));
        for (int i = 0; i < count; i++)
        {
            var bytes = (byte[])valid.Clone();
            switch (rng.Next(4))
            {
                case 0:
                    for (int k = rng.Next(1, 8); k > 0; k--) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
                    break;
                case 1:
                    bytes = bytes[..rng.Next(bytes.Length)];
                    break;
                case 2:
                    int at = rng.Next(8, 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
                    const string Json = "{}[]\":,0123456789-e.\\ \u00ff";
                    bytes[at] = (byte)Json[rng.Next(Json.Length)];
                    break;
                default:
                    int from = rng.Next(bytes.Length), length = rng.Next(1, 64);
                    bytes = [.. bytes[..from], .. bytes.Skip(from).Take(length), .. bytes[from..]];
                    break;
            }
            yield return new($"mutation-{seed}-{i}", bytes, null);
        }
    }
}
