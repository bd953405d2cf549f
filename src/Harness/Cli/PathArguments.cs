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

    /// <summary>
    /// A file to write into an existing folder: refused when it is a folder or its folder does not exist, so a report
    /// path with a typo fails before the work rather than after it, and no stray folder is made.
    /// </summary>
    public static string OutputFile(string path, string option)
    {
        if (Directory.Exists(path)) throw new InputException($"{option} {path} is a folder, not a file", $"give {option} a file path");
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder))
            throw new InputException($"{option} {path}: the folder {folder} does not exist", $"give {option} a file in an existing folder, or create the folder first");
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
