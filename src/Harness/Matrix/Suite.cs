using System.Globalization;
using System.Text;
using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Matrix;

/// <summary>
/// A matrix with its defences set aside: what its undefended cells measure. Two submitters who run the same suite with
/// their own defence lists get the same suite hash, so their results folders can share one board (README, publishing a
/// board of submissions). The canonical form is built from the expanded cells, not the file's text, so comments, key
/// order, block names and the matrix's name do not count, and what decides the numbers does.
/// </summary>
public static class Suite
{
    /// <summary>The manifest's suite_sha256: SHA-256 of <see cref="Canonical"/>, lower-case hex.</summary>
    public static string Sha256(MatrixSpec matrix) => MatrixLoader.Sha256(Encoding.UTF8.GetBytes(Canonical(matrix)));

    /// <summary>
    /// One line each for the seeds, the success threshold and the tolerances, then every distinct cell description with
    /// its defence replaced by none (scenario, attack with its parameters, utility training, δ, round), sorted.
    /// An exec attack counts by its name and parameters; its code is checked by the agreement of the undefended rows.
    /// </summary>
    public static string Canonical(MatrixSpec matrix)
    {
        var text = new StringBuilder("defensebench suite 1\n");
        text.Append("seeds=").AppendJoin(',', matrix.Seeds.Select(s => s.ToString(CultureInfo.InvariantCulture))).Append('\n');
        text.Append("success_psnr=").Append(ParameterSpec.FormatReal(matrix.SuccessPsnr)).Append('\n');
        text.Append("tolerance=").AppendJoin(',', matrix.Tolerance.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}:{ParameterSpec.FormatReal(t.Value)}")).Append('\n');
        foreach (string cell in matrix.Cells.Select(c => (c with { Defense = DefenseChoice.None }).Description).Distinct().Order(StringComparer.Ordinal))
            text.Append("cell=").Append(cell).Append('\n');
        return text.ToString();
    }
}
