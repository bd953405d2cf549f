using TorchSharp;

namespace DefenseBench.Core.Native;

/// <summary>
/// Runs a stretch of work on fewer of libtorch's intra-op threads, restoring the count when disposed. libtorch splits
/// convolutions and matrix products over its threads whatever their size; on tensors of a few thousand values the
/// hand-offs cost more than the threads give. The count belongs to the calling thread's OpenMP settings, so a scope
/// is for work that runs on the thread that opened it.
/// </summary>
public sealed class IntraOpThreads : IDisposable
{
    private readonly int _previous;

    private IntraOpThreads(int previous) => _previous = previous;

    /// <summary>At most <paramref name="threads"/> threads until disposed; null (nothing to restore) when already that few.</summary>
    public static IntraOpThreads? AtMost(int threads)
    {
        int current = torch.get_num_threads();
        if (current <= threads) return null;
        torch.set_num_threads(threads);
        return new IntraOpThreads(current);
    }

    public void Dispose() => torch.set_num_threads(_previous);
}
