using System.Runtime.CompilerServices;

namespace DefenseBench.Harness.Tests.Support;

/// <summary>Finds files of the repository the tests were built from (read only).</summary>
public static class Repository
{
    /// <summary>
    /// The folder holding DefenseBench.sln: found by walking up from the test assembly, or, when the build wrote its
    /// output elsewhere (--artifacts-path), from this source file.
    /// </summary>
    public static string Root { get; } = FindRoot(AppContext.BaseDirectory) ?? FindRoot(SourceFolder())
        ?? throw new DirectoryNotFoundException($"no DefenseBench.sln above {AppContext.BaseDirectory} or {SourceFolder()}");

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string? FindRoot(string? start)
    {
        for (var dir = start == null ? null : new DirectoryInfo(start); dir != null; dir = dir.Parent)
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "DefenseBench.sln"))) return dir.FullName;
        return null;
    }

    private static string? SourceFolder([CallerFilePath] string path = "") => Path.GetDirectoryName(path);
}
