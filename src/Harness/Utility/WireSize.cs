using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;

namespace DefenseBench.Harness.Utility;

/// <summary>
/// Bytes an upload takes on the wire: 4 per float32 value when sent dense; when the pipeline sends it sparse (its last
/// client-side stage sparsifies), 4 per value plus 4 per 32-bit index of each non-zero, per tensor, unless sending that
/// tensor dense is smaller (a 4-byte value and a 4-byte index: about 2× per kept value; README, bytes on the wire).
/// </summary>
public static class WireSize
{
    public const int ValueBytes = 4;
    public const int IndexBytes = 4;

    /// <summary>
    /// Bytes one client's upload takes under <paramref name="pipeline"/>: its aggregation protocol's count when it has
    /// one (every value is sent, zeros included: a masked vector hides which are zero), else
    /// <see cref="Bytes(Update, bool)"/>.
    /// </summary>
    public static long Bytes(Update update, DefensePipeline pipeline, int clients) => pipeline.Aggregation is IWireProtocol protocol
        ? protocol.ClientBytes(update.Tensors.Sum(t => t.numel()), clients)
        : Bytes(update, SendsSparse(pipeline));

    public static bool SendsSparse(DefensePipeline pipeline) => pipeline.ClientStages.Count > 0 && pipeline.ClientStages[^1] is ISparsifyingDefense;

    public static long Bytes(Update update, bool sparse) =>
        update.Tensors.Sum(t => sparse
            ? Math.Min(ValueBytes * t.numel(), (ValueBytes + IndexBytes) * t.count_nonzero().item<long>())
            : ValueBytes * t.numel());
}
