namespace DefenseBench.Core.Components;

/// <summary>
/// An error the user can fix (bad matrix, unknown name, unreadable dataset, out-of-range parameter). It carries where
/// the problem is and what to do; the CLI turns it into exit code 2 and nothing else does.
/// </summary>
public sealed class InputException : Exception
{
    public InputException(string message, string? fix = null, string? file = null, int? line = null) : base(message)
    {
        Fix = fix;
        File = file;
        Line = line;
    }

    public string? Fix { get; }
    public string? File { get; }
    public int? Line { get; }

    /// <summary>"FILE:LINE: message; fix", leaving out what is unknown.</summary>
    public string Describe()
    {
        string where = File == null ? "" : Line == null ? $"{File}: " : $"{File}:{Line}: ";
        return Fix == null ? where + Message : $"{where}{Message}; {Fix}";
    }
}
