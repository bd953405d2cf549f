using System.Reflection;
using System.Runtime.InteropServices;
using DefenseBench.Core.Components;

namespace DefenseBench.Core.Native;

/// <summary>Where libtorch was found for the system backend, and through which of the three ways.</summary>
public sealed record LibTorchLocation(string Directory, string Source);

/// <summary>
/// Which libtorch the process uses. Builds with -p:TorchBackend=cpu or cuda ship libtorch beside the program and
/// TorchSharp loads it itself. A -p:TorchBackend=system build ships only TorchSharp's shim (libLibTorchSharp), which
/// needs libtorch.so, libc10.so and libtorch_cpu.so by name: this class finds an installed libtorch (a PyTorch
/// install's torch/lib or a libtorch zip's lib/) through --libtorch DIR, DEFENSEBENCH_LIBTORCH or LD_LIBRARY_PATH, and
/// loads those libraries by full path before TorchSharp's first call, so the shim binds to them by soname. (The
/// dynamic loader reads LD_LIBRARY_PATH only at process start, hence loading by path rather than setting it.)
/// </summary>
public static class LibTorch
{
    public const string OptionName = "--libtorch";
    public const string EnvironmentVariable = "DEFENSEBENCH_LIBTORCH";

    /// <summary>The search-path variable of the platform's dynamic loader.</summary>
    public static string SearchPathVariable =>
        OperatingSystem.IsWindows() ? "PATH" : OperatingSystem.IsMacOS() ? "DYLD_LIBRARY_PATH" : "LD_LIBRARY_PATH";

    private static readonly object Gate = new();
    private static string? _option;
    private static LibTorchLocation? _location;

    /// <summary>The TorchSharp backend this build was made with: cpu, cuda or system (-p:TorchBackend).</summary>
    public static string Backend { get; } =
        typeof(LibTorch).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "TorchBackend")?.Value ?? "cpu";

    /// <summary>True when the build ships libtorch itself (backends cpu and cuda).</summary>
    public static bool Bundled => Backend != "system";

    /// <summary>Where libtorch was loaded from by <see cref="Require"/>; null for bundled backends or before loading.</summary>
    public static LibTorchLocation? Location
    {
        get
        {
            lock (Gate) return _location;
        }
    }

    /// <summary>Records the --libtorch option (null when absent) for a later <see cref="Require"/>.</summary>
    public static void Configure(string? option)
    {
        lock (Gate) _option = string.IsNullOrWhiteSpace(option) ? null : option;
    }

    /// <summary>
    /// Makes libtorch loadable before TorchSharp's first call: for the system backend, finds and loads it once and
    /// throws an <see cref="InputException"/> naming all three ways when it cannot; for bundled backends, nothing.
    /// </summary>
    public static void Require()
    {
        if (Bundled) return;
        lock (Gate)
        {
            if (_location != null) return;
            var location = Locate(_option, Environment.GetEnvironmentVariable);
            Load(location);
            _location = location;
        }
    }

    /// <summary>The fix printed whenever libtorch is not found: every way to point at it.</summary>
    public static string Fix =>
        $"pass {OptionName} DIR, set the environment variable {EnvironmentVariable}=DIR, or add DIR to {SearchPathVariable}, where DIR " +
        $"holds {LibraryFile("torch_cpu")}: for PyTorch, DIR is what `python3 -c \"import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))\"` " +
        "prints; for a libtorch archive, its lib/ folder";

    /// <summary>
    /// Where the system backend loads libtorch from: the option, else the environment variable, else the first folder
    /// of the loader's search path that holds libtorch_cpu. A folder named by the option or the variable may also be
    /// a PyTorch package folder whose lib/ holds it.
    /// </summary>
    public static LibTorchLocation Locate(string? option, Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(option)) return Check(option, OptionName);
        if (environment(EnvironmentVariable) is { Length: > 0 } variable) return Check(variable, EnvironmentVariable);
        foreach (string folder in (environment(SearchPathVariable) ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            if (Holds(folder)) return new LibTorchLocation(Path.GetFullPath(folder), SearchPathVariable);
        throw new InputException(
            $"this build uses the system backend (-p:TorchBackend=system), which takes libtorch from an installed PyTorch or libtorch, " +
            $"and none was found through {OptionName}, {EnvironmentVariable} or {SearchPathVariable}", Fix);
    }

    private static LibTorchLocation Check(string folder, string source)
    {
        foreach (string candidate in new[] { folder, Path.Combine(folder, "lib") })
            if (Holds(candidate)) return new LibTorchLocation(Path.GetFullPath(candidate), source);
        string where = Directory.Exists(folder) ? $"{folder} holds no {LibraryFile("torch_cpu")} (nor does {Path.Combine(folder, "lib")})" : $"{folder} does not exist";
        throw new InputException($"{source} {folder}: {where}", Fix);
    }

    private static bool Holds(string folder) => File.Exists(Path.Combine(folder, LibraryFile("torch_cpu")));

    /// <summary>The file name of a libtorch library on this platform: torch_cpu → libtorch_cpu.so, .dylib or torch_cpu.dll.</summary>
    public static string LibraryFile(string name) =>
        OperatingSystem.IsWindows() ? name + ".dll" : OperatingSystem.IsMacOS() ? $"lib{name}.dylib" : $"lib{name}.so";

    /// <summary>Loads c10, torch_cpu, the CUDA parts where the install has them, then torch, by full path, in dependency order.</summary>
    private static void Load(LibTorchLocation location)
    {
        foreach (string name in new[] { "c10", "torch_cpu", "c10_cuda", "torch_cuda", "torch" })
        {
            string path = Path.Combine(location.Directory, LibraryFile(name));
            if (!File.Exists(path)) continue;
            try
            {
                NativeLibrary.Load(path);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                throw new InputException($"libtorch in {location.Directory} (found through {location.Source}) does not load: {e.Message}",
                    "check that the install is complete and matches this machine (CUDA libraries for a CUDA build), or point at another one: " + Fix);
            }
        }
    }

    /// <summary>The file a native library of the process was mapped from, read from /proc/self/maps (Linux; null elsewhere or when not loaded).</summary>
    public static string? LoadedFrom(string name)
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) return null;
        string file = "/" + LibraryFile(name);
        foreach (string line in File.ReadLines(maps))
        {
            int slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0 && line.EndsWith(file, StringComparison.Ordinal)) return line[slash..];
        }
        return null;
    }

    /// <summary>
    /// The version an install declares about itself: PyTorch's torch/version.py or a libtorch archive's build-version,
    /// both beside the lib/ folder; null when neither is there (e.g. the libtorch NuGet packages).
    /// </summary>
    public static string? InstallVersion(string libFolder)
    {
        string parent = Path.GetDirectoryName(Path.GetFullPath(libFolder).TrimEnd(Path.DirectorySeparatorChar)) ?? libFolder;
        string python = Path.Combine(parent, "version.py");
        if (File.Exists(python))
            foreach (string line in File.ReadLines(python))
                if (line.StartsWith("__version__", StringComparison.Ordinal) && line.Split('\'', '"') is { Length: >= 2 } parts)
                    return "PyTorch " + parts[1];
        string archive = Path.Combine(parent, "build-version");
        return File.Exists(archive) ? "libtorch " + File.ReadLines(archive).FirstOrDefault()?.Trim() : null;
    }
}
