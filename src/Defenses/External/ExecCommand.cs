using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace DefenseBench.Defenses.External;

/// <summary>
/// An external defence's command line, split as a shell would split a simple command but without a shell: words
/// separated by blanks, single or double quotes grouping a word with blanks in it, no variables, globs or pipes. Paths
/// in it are relative to the folder it runs in (the matrix file's folder).
/// </summary>
public static partial class ExecCommand
{
    /// <summary>The words of <paramref name="command"/>; an <see cref="ArgumentException"/> says why when it has none or a quote is not closed.</summary>
    public static IReadOnlyList<string> Split(string command)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        foreach (char c in command)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else word.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        if (quote != '\0') throw new ArgumentException($"the {(quote == '"' ? "double" : "single")} quote opened in the command is not closed");
        if (inWord) words.Add(word.ToString());
        if (words.Count == 0) throw new ArgumentException("the command is empty");
        return words;
    }

    /// <summary>A word as a path from <paramref name="folder"/> (absolute words stay as they are).</summary>
    public static string Resolve(string folder, string word) => Path.GetFullPath(Path.Combine(folder, word));

    /// <summary>
    /// The words that look like paths (not options, and holding a '/' or ending in a file extension such as ".py") yet
    /// name nothing in <paramref name="folder"/>: a mistyped script path, reported when the matrix is read instead of
    /// failing every cell.
    /// </summary>
    public static IEnumerable<string> MissingPaths(IReadOnlyList<string> words, string folder) =>
        words.Where(w => !w.StartsWith('-') && (w.Contains('/', StringComparison.Ordinal) || FileLike().IsMatch(w))
                         && !File.Exists(Resolve(folder, w)) && !Directory.Exists(Resolve(folder, w)));

    /// <summary>A name ending in a dot and one to four characters starting with a letter ("prune.py", not "python3.11" or "0.5").</summary>
    [GeneratedRegex(@"^[^=]+\.[A-Za-z][A-Za-z0-9]{0,3}$")]
    private static partial Regex FileLike();

    /// <summary>
    /// The SHA-256 of every file the command names (words that are files relative to <paramref name="folder"/>), by the
    /// word as written: what a leaderboard shows as the code that ran. The interpreter found on PATH is not hashed.
    /// </summary>
    public static IReadOnlyDictionary<string, string> FileHashes(string command, string folder)
    {
        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string word in Split(command))
        {
            string path = Resolve(folder, word);
            if (!File.Exists(path)) continue;
            using var stream = File.OpenRead(path);
            hashes[word] = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        return hashes;
    }
}
