namespace DefenseBench.Defenses.External;

/// <summary>
/// An external defence's program failed on one upload: it would not start, exited with a non-zero status, ran out of
/// time, or answered with a file that is not the upload's shape. The cell fails with the message; the run goes on.
/// </summary>
public sealed class ExecDefenseException(string message) : Exception(message);
