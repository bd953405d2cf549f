using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Matrix;

/// <summary>Every error found in one matrix file, each with its line and fix; the CLI prints them all and exits 2.</summary>
public sealed class MatrixException(IReadOnlyList<InputException> errors)
    : Exception($"{errors.Count} error(s) in the matrix")
{
    public IReadOnlyList<InputException> Errors { get; } = errors;
}
