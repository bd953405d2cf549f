using System.Text;
using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Results;

/// <summary>
/// Output paths built from data (a defence family, a cell id, a plot stem read from someone else's cells.csv). Every
/// such name goes through <see cref="Inside"/>, which refuses anything that is not one plain file name and checks that
/// the joined path stays inside the folder it is meant for, so a crafted results folder cannot make a command write
/// or read elsewhere.
/// </summary>
public static class SafePath
{
    /// <summary>The longest file name, in UTF-8 bytes, that common file systems (ext4, NTFS, APFS) all take.</summary>
    public const int MaxNameBytes = 255;

    private static readonly HashSet<string> Reserved = new(
        ["CON", "PRN", "AUX", "NUL", .. Enumerable.Range(0, 10).SelectMany(i => new[] { $"COM{i}", $"LPT{i}" })],
        StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// <paramref name="folder"/> joined with the single file name <paramref name="name"/>; an
    /// <see cref="InputException"/> naming <paramref name="source"/> when the name could leave the folder or cannot be
    /// a file name on every platform (separators, "." or "..", a rooted path, NUL or control characters, a Windows
    /// device name, a trailing dot or space, more than <see cref="MaxNameBytes"/> bytes).
    /// </summary>
    public static string Inside(string folder, string name, string source)
    {
        if (Problem(name) is { } problem)
            throw new InputException($"{source} gives the file name '{Printable(name)}', which {problem}",
                "repair the value in that file (names must be plain file names); it is refused so nothing is written outside the results folder");
        string root = Path.GetFullPath(folder);
        string path = Path.GetFullPath(Path.Combine(root, name));
        string prefix = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
            throw new InputException($"{source} gives the file name '{Printable(name)}', which leads outside {folder}", "repair the value in that file");
        return path;
    }

    /// <summary>Why <paramref name="name"/> is not one plain, portable file name; null when it is.</summary>
    public static string? Problem(string name)
    {
        if (name.Length == 0) return "is empty";
        if (name is "." or "..") return "names a folder, not a file";
        if (name.Any(c => c == '\0' || char.IsControl(c))) return "holds a NUL or control character";
        if (name.IndexOfAny(['/', '\\']) >= 0 || Path.IsPathRooted(name)) return "holds a path separator";
        if (name.Contains(':', StringComparison.Ordinal)) return "holds a ':' (a drive or stream on Windows)";
        if (name.EndsWith('.') || name.EndsWith(' ')) return "ends with a dot or a space";
        if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes) return $"is longer than {MaxNameBytes} bytes";
        string stem = name.Split('.')[0].TrimEnd();
        if (Reserved.Contains(stem)) return "is a reserved device name on Windows";
        return null;
    }

    /// <summary>A name shown in a message: control characters as \uXXXX, cut to 80 characters.</summary>
    private static string Printable(string name)
    {
        var text = new StringBuilder();
        foreach (char c in name.Length > 80 ? name[..80] : name)
            text.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c);
        return name.Length > 80 ? text.Append('…').ToString() : text.ToString();
    }
}
