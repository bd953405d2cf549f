using System.Globalization;
using DefenseBench.Core.Components;
using DefenseBench.Core.Federation;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Common;

/// <summary>The tensor names a captured update uses (overridable, since FL systems name their layers differently).</summary>
public sealed record LastLayerNames(
    string Weight = "fc.weight", string Bias = "fc.bias", string WeightGrad = "grad.fc.weight", string BiasGrad = "grad.fc.bias");

/// <summary>
/// A last layer as a safetensors file, for auditing updates captured from another FL system: the FC parameters
/// <c>fc.weight</c> [C, d] and <c>fc.bias</c> [C] the gradient was taken at, the gradients <c>grad.fc.weight</c> and
/// <c>grad.fc.bias</c> (the mean-loss gradient, or the sum over U local steps of a FedAvg update divided by η), and
/// in <c>__metadata__</c> the batch size (required), the class count and the local steps (optional).
/// </summary>
public static class LastLayerFile
{
    public const string BatchSizeKey = "batch_size";
    public const string NumClassesKey = "num_classes";
    public const string StepsKey = "steps";

    /// <summary>What the file says and the caller may override.</summary>
    public sealed record Overrides(int? BatchSize = null, int? NumClasses = null, int? Steps = null);

    /// <summary>
    /// How the caller lets its user override each input, as an error's fix names it (the `attack` command passes its
    /// option names, "--weight-grad", "--batch-size", ...): this reader knows the file format, not the command line.
    /// </summary>
    public sealed record OverrideOptions(string Weight, string Bias, string WeightGrad, string BiasGrad, string BatchSize, string NumClasses, string Steps);

    /// <summary>Writes <paramref name="layer"/> with its batch size, class count and steps, plus <paramref name="extra"/> metadata.</summary>
    public static void Write(string path, LastLayer layer, IReadOnlyDictionary<string, string>? extra = null, LastLayerNames? names = null)
    {
        names ??= new LastLayerNames();
        var tensors = new List<(string, Tensor)>();
        if (layer.Weight is { } w) tensors.Add((names.Weight, w));
        if (layer.Bias is { } b) tensors.Add((names.Bias, b));
        tensors.Add((names.WeightGrad, layer.WeightGrad));
        if (layer.BiasGrad is { } gb) tensors.Add((names.BiasGrad, gb));
        var metadata = new Dictionary<string, string>(extra ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [BatchSizeKey] = layer.BatchSize.ToString(CultureInfo.InvariantCulture),
            [NumClassesKey] = layer.NumClasses.ToString(CultureInfo.InvariantCulture),
            [StepsKey] = layer.Steps.ToString(CultureInfo.InvariantCulture),
        };
        SafeTensorsFile.Write(path, tensors, metadata);
    }

    /// <summary>
    /// Reads a last layer for <paramref name="attack"/>: the gradient of W always, the bias gradient and the FC
    /// parameters when the attack needs them. Every missing tensor, wrong shape or missing count is an
    /// <see cref="InputException"/> naming the file and what is wrong.
    /// </summary>
    public static LastLayer Read(string path, LastLayerAttack attack, Overrides overrides, OverrideOptions options, LastLayerNames? names = null, Device? device = null)
    {
        names ??= new LastLayerNames();
        device ??= torch.CPU;
        var file = SafeTensorsFile.Read(path);
        var weightGrad = Tensor(file, path, names.WeightGrad, options.WeightGrad, needed: true, device)!;
        if (weightGrad.dim() != 2)
            throw new InputException($"{path}: tensor '{names.WeightGrad}' has shape [{string.Join(", ", weightGrad.shape)}], not [C, d]",
                "store the last layer's weight gradient as a matrix with one row per class");
        long c = weightGrad.shape[0], d = weightGrad.shape[1];
        if (c == 0 || d == 0)
            throw new InputException($"{path}: tensor '{names.WeightGrad}' has shape [{c}, {d}]: no {(c == 0 ? "class" : "feature")}",
                "export the last layer of a model with at least one class and one input feature");
        int batch = overrides.BatchSize ?? Count(file, path, BatchSizeKey, options.BatchSize)
            ?? throw new InputException($"{path} does not say the batch size", $"add \"{BatchSizeKey}\" to the header's __metadata__, or pass {options.BatchSize} B");
        int steps = overrides.Steps ?? Count(file, path, StepsKey, options.Steps) ?? 1;
        int? classes = overrides.NumClasses ?? Count(file, path, NumClassesKey, options.NumClasses);
        if (classes is { } n && n != c)
            throw new InputException($"{path}: tensor '{names.WeightGrad}' has {c} rows but the update is for {n} classes",
                $"check num_classes (metadata or {options.NumClasses}) against the last layer");
        bool bias = attack.Needs.HasFlag(Core.Attacks.AttackNeeds.FcBias);
        var biasGrad = Tensor(file, path, names.BiasGrad, options.BiasGrad, bias, device);
        var weight = Tensor(file, path, names.Weight, options.Weight, attack.NeedsFcParameters, device);
        var biasValue = Tensor(file, path, names.Bias, options.Bias, attack.NeedsFcParameters, device);
        Shape(path, names.BiasGrad, biasGrad, [c]);
        Shape(path, names.Weight, weight, [c, d]);
        Shape(path, names.Bias, biasValue, [c]);
        return new LastLayer(weightGrad, biasGrad, batch, steps) { Weight = weight, Bias = biasValue };
    }

    private static Tensor? Tensor(SafeTensorsFile file, string path, string name, string option, bool needed, Device device)
    {
        var entry = file.Find(name);
        if (entry == null && needed)
            throw new InputException($"{path} has no tensor '{name}' (it has {string.Join(", ", file.Tensors.Select(t => t.Name).DefaultIfEmpty("none"))})",
                $"store it under that name, or name the tensor that holds it with {option}");
        if (entry == null) return null;
        // A NaN or infinity makes every label attack's answer meaningless (LLG counts all of B into class 0, SVDs fail).
        if (entry.FirstNonFinite() is var at and >= 0)
            throw new InputException($"{path}: tensor '{name}' holds a non-finite value (NaN or infinity) at flat index {at}",
                "export the update before it diverged; a defence whose noise overflows float32 leaves nothing to audit");
        return entry.ToTensor(device);
    }

    private static void Shape(string path, string name, Tensor? tensor, long[] expected)
    {
        if (tensor is not null && !tensor.shape.SequenceEqual(expected))
            throw new InputException($"{path}: tensor '{name}' has shape [{string.Join(", ", tensor.shape)}], expected [{string.Join(", ", expected)}]",
                "store the last layer's parameters and gradients with matching shapes (C rows, d columns)");
    }

    private static int? Count(SafeTensorsFile file, string path, string key, string option)
    {
        if (!file.Metadata.TryGetValue(key, out string? text)) return null;
        if (int.TryParse(text.Trim('"'), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 1) return n;
        throw new InputException($"{path}: metadata {key} '{text}' is not a positive integer", $"write a positive integer, or pass {option}");
    }
}
