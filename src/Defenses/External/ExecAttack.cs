using System.Globalization;
using System.Text.Json;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using static TorchSharp.torch;

namespace DefenseBench.Defenses.External;

/// <summary>
/// A label or reconstruction attack written as another program, in any language (docs/attacks.md, external attacks;
/// examples/attacks/README.md). It lives beside the external defence because it runs through the same machinery: the
/// command with two paths appended, VIEW (the server view as safetensors) and OUT.json (its answer), in the matrix
/// file's folder, one process per cell, killed past its timeout. Its answer is read as hostile input: anything out of
/// schema fails the cell, never the run. <paramref name="needs"/> is what the matrix declared it reads; a view without
/// it makes the cell not-applicable, as for a built-in attack.
/// </summary>
public sealed class ExecAttack(ExecSettings settings, AttackNeeds needs) : IAttack
{
    /// <summary>Room in OUT.json beyond its counts: generous for blanks and keys, small enough to refuse a flood.</summary>
    private const long JsonAllowance = 1 << 20;

    /// <summary>The characters one count may take in OUT.json, with its separator.</summary>
    private const long BytesPerCount = 24;

    public ExecSettings Settings { get; } = settings;

    public string Id => ExecSettings.Id;

    public AttackNeeds Needs { get; } = needs;

    public string Canonical => Settings.Canonical;

    public AttackOutcome Run(ServerView view, AttackContext context)
    {
        if (Needs.HasFlag(AttackNeeds.FcBias) && !view.Aggregate.Contains(Classifier.FcBias))
            throw new NotApplicableException($"{Canonical} needs the last layer's bias gradient and the model has no bias");
        if (Needs.HasFlag(AttackNeeds.KnownClasses) && context.KnownClasses == null)
            throw new NotApplicableException($"{Canonical} needs the set of classes present, which this run does not lend");
        int[] targets = view.ClientUpdates is { } uploads ? [.. Enumerable.Range(0, uploads.Count)] : [LabelRecovery.Aggregate];
        ulong seed = context.Rng.NextULong();
        string folder = Directory.CreateTempSubdirectory("defensebench-exec-attack-").FullName;
        try
        {
            string viewPath = Path.Combine(folder, "view.safetensors");
            string outPath = Path.Combine(folder, "out.json");
            WriteView(viewPath, view, context, targets, seed);
            using (var program = new ExternalProgram(Settings with { Persistent = false }))
                program.Defend(viewPath, outPath);
            return ReadOutcome(outPath, view, targets);
        }
        catch (ExecDefenseException e)
        {
            throw new ExecAttackException($"{Canonical}: {e.Message}");
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // left for the system's temp cleaner: what the program left behind must not fail a scored cell
            }
        }
    }

    /// <summary>The name of a target in VIEW's tensor names and OUT.safetensors: the client's index, or "aggregate".</summary>
    public static string TargetName(int target) => target == LabelRecovery.Aggregate ? "aggregate" : target.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// VIEW: "model.NAME" for each parameter of the model the server sent, "upload.K.NAME" for each client K's upload
    /// when the server sees them, else "aggregate.NAME"; all F32. Metadata (strings, as safetensors requires) holds
    /// what the server knows publicly (examples/attacks/README.md lists the keys).
    /// </summary>
    private void WriteView(string path, ServerView view, AttackContext context, int[] targets, ulong seed)
    {
        // The float32 copies live only until the file is written.
        using var scope = NewDisposeScope();
        var info = view.Info;
        var tensors = new List<(string, Tensor)>();
        foreach (var (name, parameter) in view.Model.named_parameters())
            tensors.Add(($"model.{name}", parameter.detach().to(ScalarType.Float32)));
        if (view.ClientUpdates is { } uploads)
            for (int k = 0; k < uploads.Count; k++)
                tensors.AddRange(uploads[k].Entries.Select(e => ($"upload.{k}.{e.Name}", e.Value.to(ScalarType.Float32))));
        else
            tensors.AddRange(view.Aggregate.Entries.Select(e => ($"aggregate.{e.Name}", e.Value.to(ScalarType.Float32))));
        int BatchOf(int target) => target == LabelRecovery.Aggregate ? view.AggregateBatchSize : info.BatchSizes[target];
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["params"] = Settings.ParametersJson(),
            ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["attack"] = Canonical,
            ["targets"] = JsonSerializer.Serialize(targets.Select(t => t == LabelRecovery.Aggregate ? (object)"aggregate" : t)),
            ["target_batch_sizes"] = JsonSerializer.Serialize(targets.Select(BatchOf)),
            ["batch_sizes"] = JsonSerializer.Serialize(info.BatchSizes),
            ["contributors"] = JsonSerializer.Serialize(view.Contributors),
            ["num_classes"] = info.NumClasses.ToString(CultureInfo.InvariantCulture),
            ["image_shape"] = JsonSerializer.Serialize(new[] { info.Shape.Channels, info.Shape.Height, info.Shape.Width }),
            ["protocol"] = info.Protocol.Canonical,
            ["local_steps"] = info.Protocol.Steps.ToString(CultureInfo.InvariantCulture),
            ["learning_rate"] = info.Protocol is FedAvg avg ? ParameterSpec.FormatReal(avg.LearningRate) : "",
            ["kind"] = view.Aggregate.Kind == UpdateKind.Gradient ? "gradient" : "weight-delta",
            ["defense"] = view.Defense.Canonical,
            ["fc_weight"] = Classifier.FcWeight,
            ["fc_bias"] = view.Aggregate.Contains(Classifier.FcBias) ? Classifier.FcBias : "",
        };
        if (Needs.HasFlag(AttackNeeds.KnownClasses))
            metadata["known_classes"] = JsonSerializer.Serialize(targets.ToDictionary(TargetName, t => context.KnownClasses!(t)));
        SafeTensorsFile.Write(path, tensors, metadata);
    }

    /// <summary>
    /// OUT.json ({"labels": [{"target": 0, "counts": [...]}], "existence_only": false}) and, when the program wrote it,
    /// OUT.safetensors beside it ("images.TARGET", F32 [N, C, H, W]). At least one of the two; labels, when given, name
    /// every target once with C non-negative integer counts; images are finite and of the view's shape.
    /// </summary>
    private AttackOutcome ReadOutcome(string outPath, ServerView view, int[] targets)
    {
        var info = view.Info;
        string imagesPath = Path.ChangeExtension(outPath, ".safetensors");
        long jsonLimit = JsonAllowance + BytesPerCount * targets.Length * info.NumClasses;
        byte[]? json = UploadFiles.ReadAnswer(outPath, "OUT.json", jsonLimit, Settings.Timeout);
        if (json == null) throw Bad(Directory.Exists(outPath) ? "OUT.json is a folder, not a file" : "OUT.json was not written");
        var labels = ReadLabels(json, targets, info.NumClasses);
        var images = ReadImages(imagesPath, view, targets);
        if (labels.Count == 0 && images.Count == 0)
            throw Bad("OUT.json has no labels and there is no OUT.safetensors with images: the attack recovered nothing to score");
        return new AttackOutcome(labels) { Images = images };
    }

    private static List<LabelRecovery> ReadLabels(byte[] json, int[] targets, int classes)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Bad($"OUT.json is not JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad($"OUT.json is a {Kind(root)}, not an object {{\"labels\": [...]}}");
            bool existenceOnly = false;
            var result = new List<LabelRecovery>();
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "existence_only":
                        if (property.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                            throw Bad($"OUT.json existence_only is a {Kind(property.Value)}; write true or false");
                        existenceOnly = property.Value.GetBoolean();
                        break;
                    case "labels":
                        break;
                    default:
                        throw Bad($"OUT.json has a key '{Shorten(property.Name)}'; its keys are labels and existence_only");
                }
            }
            if (!root.TryGetProperty("labels", out var list) || list.ValueKind == JsonValueKind.Null) return result;
            if (list.ValueKind != JsonValueKind.Array) throw Bad($"OUT.json labels is a {Kind(list)}, not a list");
            var seen = new HashSet<int>();
            foreach (var entry in list.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("target", out var targetNode) || !entry.TryGetProperty("counts", out var countsNode))
                    throw Bad("OUT.json labels holds an entry that is not {\"target\": ..., \"counts\": [...]}");
                int target = Target(targetNode, targets);
                if (!seen.Add(target)) throw Bad($"OUT.json labels names target {TargetName(target)} twice");
                result.Add(new LabelRecovery(target, Counts(countsNode, target, classes)) { ExistenceOnly = existenceOnly });
            }
            var missing = targets.Where(t => !seen.Contains(t)).ToList();
            if (result.Count > 0 && missing.Count > 0)
                throw Bad($"OUT.json labels has no entry for target {string.Join(", ", missing.Select(TargetName))}; give every target of the view ({string.Join(", ", targets.Select(TargetName))})");
            return result;
        }
    }

    /// <summary>A client's index, or "aggregate" (also -1), among the view's targets.</summary>
    private static int Target(JsonElement node, int[] targets)
    {
        int? target = node.ValueKind switch
        {
            JsonValueKind.String when node.GetString() == "aggregate" => LabelRecovery.Aggregate,
            JsonValueKind.Number when node.TryGetInt32(out int k) => k,
            _ => null,
        };
        if (target is { } t && targets.Contains(t)) return t;
        throw Bad($"OUT.json names target {Shorten(node.GetRawText())}, which the view does not hold; its targets are {string.Join(", ", targets.Select(TargetName))}");
    }

    private static int[] Counts(JsonElement node, int target, int classes)
    {
        string where = $"OUT.json counts of target {TargetName(target)}";
        if (node.ValueKind != JsonValueKind.Array) throw Bad($"{where} is a {Kind(node)}, not a list of {classes} counts");
        int length = node.GetArrayLength();
        if (length != classes) throw Bad($"{where} has {length} entries; the model has {classes} classes");
        var counts = new int[classes];
        int c = 0;
        foreach (var item in node.EnumerateArray())
        {
            // 3.0 is an integer written by a float printer; 2.5, -1 and 1e30 are not counts.
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetDouble(out double value) || value != Math.Floor(value) || value < 0 || value > int.MaxValue)
                throw Bad($"{where}: class {c} has {Shorten(item.GetRawText())}; counts are non-negative integers");
            counts[c++] = (int)value;
        }
        return counts;
    }

    private List<ImageRecovery> ReadImages(string path, ServerView view, int[] targets)
    {
        var info = view.Info;
        var shape = info.Shape;
        long images = targets.Sum(t => (long)(t == LabelRecovery.Aggregate ? view.AggregateBatchSize : info.BatchSizes[t]) * info.Protocol.Steps);
        long limit = images * shape.Size * sizeof(float) + JsonAllowance;
        byte[]? bytes = UploadFiles.ReadAnswer(path, "OUT.safetensors", limit, Settings.Timeout);
        if (bytes == null) return [];
        SafeTensorsFile file;
        try
        {
            file = SafeTensorsFile.Parse(bytes, "OUT.safetensors");
        }
        catch (InputException e)
        {
            throw Bad(e.Message);
        }
        var names = targets.ToDictionary(t => $"images.{TargetName(t)}");
        var result = new List<ImageRecovery>();
        foreach (var tensor in file.Tensors)
        {
            if (!names.TryGetValue(tensor.Name, out int target))
                throw Bad($"OUT.safetensors has tensor '{Shorten(tensor.Name)}'; name images images.TARGET, for targets {string.Join(", ", targets.Select(TargetName))}");
            if (tensor.DType != "F32") throw Bad($"OUT.safetensors holds '{tensor.Name}' as {tensor.DType}; write float32 (F32)");
            if (tensor.Shape.Length != 4 || tensor.Shape[0] < 1 || !tensor.Shape[1..].SequenceEqual(shape.BatchDims(1)[1..]))
                throw Bad($"OUT.safetensors gives '{tensor.Name}' the shape [{string.Join(", ", tensor.Shape)}]; images are [N, {shape.Channels}, {shape.Height}, {shape.Width}] with N ≥ 1");
            long bad = tensor.FirstNonFinite();
            if (bad >= 0) throw Bad(string.Create(CultureInfo.InvariantCulture, $"OUT.safetensors has a NaN or infinite value in '{tensor.Name}' (entry {bad})"));
            var pixels = tensor.Floats();
            int n = (int)tensor.Shape[0];
            result.Add(new ImageRecovery(target, shape, [.. Enumerable.Range(0, n).Select(i => pixels.AsSpan(i * shape.Size, shape.Size).ToArray())]));
        }
        return result;
    }

    private static string Kind(JsonElement node) => node.ValueKind.ToString().ToLowerInvariant();

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static ExecDefenseException Bad(string problem) => new(problem);
}

/// <summary>An external attack's program failed on one cell (see <see cref="ExecAttack"/>); the cell fails with the message, the run goes on.</summary>
public sealed class ExecAttackException(string message) : Exception(message);
