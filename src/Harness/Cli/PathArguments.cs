using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Cli;

/// <summary>Checks of paths given on the command line, before any work: a file where a folder belongs and the reverse are input errors.</summary>
internal static class PathArguments
{
    /// <summary>A folder to write into: refused when a file of that name exists (it would fail after all the work, or clobber it).</summary>
    public static string OutputFolder(string path, string option)
    {
        if (File.Exists(path))
            throw new InputException($"{option} {path} is a file, not a folder", $"give {option} a folder (new or existing); nothing is written over a file");
        return path;
    }

    /// <summary>A file to read: refused when it is a folder ("access denied" otherwise) or missing.</summary>
    public static string InputFile(string path, string what, string fix)
    {
        if (Directory.Exists(path)) throw new InputException($"{what} {path} is a folder, not a file", fix);
        if (!File.Exists(path)) throw new InputException($"{what} {path} does not exist", fix);
        return path;
    }
}
