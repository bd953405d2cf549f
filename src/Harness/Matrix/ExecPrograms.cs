namespace DefenseBench.Harness.Matrix;

/// <summary>
/// The command each exec name stands for across a matrix file. Cells are named by the program's name, not its command,
/// so two commands under one name would be one cell id and one of them would silently not run.
/// </summary>
internal sealed class ExecPrograms
{
    private readonly Dictionary<string, (string Command, int Line)> _byName = new(StringComparer.Ordinal);

    /// <summary>The other command <paramref name="name"/> already stands for, or null (the first use of a name is recorded).</summary>
    public (string Command, int Line)? Conflict(string name, string command, int line)
    {
        if (!_byName.TryGetValue(name, out var first))
        {
            _byName[name] = (command, line);
            return null;
        }
        return first.Command == command ? null : first;
    }
}
