namespace DefenseBench.Harness.Results;

/// <summary>
/// The canonical order of cells.csv: the matrix's cell order, then seed. `run` rewrites its file in this order when it
/// finishes and `merge` writes it, so a sharded-then-merged run and an unsharded one list the same rows in the same
/// order (and draw the same plots, which follow row order).
/// </summary>
public static class RowOrder
{
    /// <summary>Rows sorted by (position of their cell in <paramref name="cellIds"/>, seed); rows of other cells last, as they came.</summary>
    public static List<CellRow> Canonical(IEnumerable<CellRow> rows, IReadOnlyList<string> cellIds)
    {
        var position = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < cellIds.Count; i++) position.TryAdd(cellIds[i], i);
        return rows.Select((row, i) => (Row: row, Cell: position.GetValueOrDefault(row.CellId, int.MaxValue), Line: i))
            .OrderBy(r => r.Cell).ThenBy(r => r.Cell == int.MaxValue ? r.Line : r.Row.Seed).ThenBy(r => r.Line)
            .Select(r => r.Row).ToList();
    }
}
