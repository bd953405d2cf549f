using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DefenseBench.Core.Models;

/// <summary>
/// Batch normalisation exactly as TorchSharp's BatchNorm1d and BatchNorm2d compute it (the same parameters, buffers and
/// state-dict names; PyTorch's train- and eval-mode arithmetic: batch statistics and a running average with momentum
/// 0.1 while training, the running statistics in eval mode), except for one line. In train mode TorchSharp counts the
/// batch with <c>num_batches_tracked.add_(1)</c>, whose implicit Scalar a garbage collection may finalise while
/// libtorch still reads it: a quick-matrix run lost a fishing cell on a batch-norm model to "Expected false to be true
/// ... toLong at c10/core/Scalar.h". Here the count is added with a Scalar the class keeps alive.
/// </summary>
public sealed class CountedBatchNorm : TorchSharp.Modules.BatchNorm
{
    private static readonly Scalar One = 1.ToScalar();
    private readonly long[] _ranks;

    private CountedBatchNorm(long features, long[] ranks, string name)
        : base(features, eps: 1e-5, momentum: 0.1, affine: true, track_running_stats: true, device: null, dtype: null, name) => _ranks = ranks;

    /// <summary>Over the channels of [N, C, H, W] maps, as BatchNorm2d.</summary>
    public static CountedBatchNorm Over2d(long channels) => new(channels, [4], "BatchNorm2d");

    /// <summary>Over the features of [N, C] or [N, C, L], as BatchNorm1d.</summary>
    public static CountedBatchNorm Over1d(long features) => new(features, [2, 3], "BatchNorm1d");

    protected override void ValidateInputDimensions(Tensor input)
    {
        if (!_ranks.Contains(input.dim()))
            throw new ArgumentException($"expected {string.Join(" or ", _ranks.Select(r => $"{r}D"))} input (got {input.dim()}D input)");
    }

    public override Tensor forward(Tensor input)
    {
        ValidateInputDimensions(input);
        double factor = momentum ?? 0.0;
        if (training && track_running_stats && num_batches_tracked is { } count)
        {
            count.add_(One, One);
            factor = momentum ?? 1.0 / count.item<long>();
        }
        bool batchStatistics = training || (running_mean is null && running_var is null);
        bool useRunning = !training || track_running_stats;
        return F.batch_norm(input, useRunning ? running_mean : null, useRunning ? running_var : null, weight, bias, batchStatistics, factor, eps);
    }
}
