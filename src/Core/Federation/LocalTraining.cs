using DefenseBench.Core.Models;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Federation;

/// <summary>A batch of images [B, C, H, W] and labels [B] on the cell's device.</summary>
public sealed record Batch(Tensor Images, Tensor Labels)
{
    /// <summary>
    /// The batch size a DP mechanism divides by when the batch is a Poisson sample: its expected size q·n, not the drawn
    /// one (which depends on the data); null for a fixed-size batch.
    /// </summary>
    public double? ExpectedSize { get; init; }
}

/// <summary>
/// How a client turns one batch into the gradient it steps with (and uploads under FedSGD), one tensor per parameter
/// in <paramref name="parameters"/> order. The default is autograd on the mean cross-entropy; a defence that changes
/// the client's computation itself (DP-SGD clips every example's gradient and adds noise) supplies its own.
/// </summary>
public delegate Tensor[] LocalGradient(Classifier model, Tensor[] parameters, Batch batch);

/// <summary>What a client computes from its batches: the FedSGD gradient or the FedAvg weight delta.</summary>
public static class LocalTraining
{
    /// <summary>
    /// The most samples forwarded at once. Larger batches are split into chunks so B = 4096 fits in memory on VGG and
    /// ResNet, and because big fresh allocations are slow on CPUs (page faults).
    /// </summary>
    public const int MaxChunk = 256;

    // Kept alive by the class: add_(b) would make an implicit alpha of 1 inside TorchSharp that may be finalised while
    // libtorch still reads it.
    private static readonly Scalar One = 1.ToScalar();

    /// <summary>Mean cross-entropy gradient of every parameter (PyTorch's default reduction; docs/attacks.md, notation).</summary>
    /// <summary>The FedSGD upload: the gradient of one batch under <paramref name="gradient"/> (default: the mean loss's).</summary>
    public static Update Gradient(Classifier model, Batch batch, LocalGradient? gradient = null, int maxChunk = MaxChunk)
    {
        var parameters = model.parameters().ToArray();
        var grads = gradient != null ? gradient(model, parameters, batch) : MeanLossGradient(model, parameters, batch, maxChunk);
        return new Update(UpdateKind.Gradient, model.ParameterNames.Zip(grads));
    }

    /// <summary>
    /// ∇ of the mean cross-entropy over the whole batch, computed in chunks of at most <paramref name="maxChunk"/>
    /// samples when the model's output for a sample does not depend on the rest of the batch (no batch norm, or eval
    /// mode). The chunks are as equal as the batch allows and each chunk's mean loss is
    /// weighted by its share of the batch, so the sum is exactly the full-batch mean gradient, not the unweighted mean
    /// of chunk means that the iLRG code uses (which is right only for equal chunks). Batch-norm models in train mode
    /// are forwarded whole, because their batch statistics are part of the gradient.
    /// </summary>
    public static Tensor[] MeanLossGradient(Classifier model, Tensor[] parameters, Batch batch, int maxChunk = MaxChunk)
    {
        int n = (int)batch.Labels.shape[0];
        if (n <= maxChunk || (model.training && model.HasBatchNorm))
        {
            var loss = functional.cross_entropy(model.forward(batch.Images), batch.Labels);
            return torch.autograd.grad([loss], parameters).Select(g => g.detach()).ToArray();
        }
        var sums = parameters.Select(p => torch.zeros_like(p)).ToArray();
        int chunks = (n + maxChunk - 1) / maxChunk, start = 0;
        for (int c = 0; c < chunks; c++)
        {
            using var scope = torch.NewDisposeScope();
            int size = n / chunks + (c < n % chunks ? 1 : 0);
            var loss = functional.cross_entropy(model.forward(batch.Images.narrow(0, start, size)), batch.Labels.narrow(0, start, size));
            using var share = ((double)size / n).ToScalar();
            var grads = torch.autograd.grad([loss.mul(share)], parameters);
            using (torch.no_grad())
                for (int i = 0; i < sums.Length; i++) sums[i].add_(grads[i], One);
            start += size;
        }
        return sums;
    }

    /// <summary>
    /// The client's upload under <paramref name="protocol"/>, every local gradient computed by
    /// <paramref name="gradient"/> (default: the mean loss's). FedAvg trains in place and restores the weights
    /// afterwards, so the model the server sent is unchanged when this returns.
    /// </summary>
    public static Update Compute(Classifier model, Protocol protocol, IReadOnlyList<Batch> stepBatches, LocalGradient? gradient = null)
    {
        if (stepBatches.Count != protocol.Steps)
            throw new ArgumentException($"{protocol.Canonical} needs {protocol.Steps} batches, got {stepBatches.Count}", nameof(stepBatches));
        switch (protocol)
        {
            case FedSgd:
                return Gradient(model, stepBatches[0], gradient);
            case FedAvg avg:
            {
                var parameters = model.parameters().ToArray();
                var start = parameters.Select(p => p.detach().clone()).ToArray();
                foreach (var batch in stepBatches) SgdStep(model, parameters, batch, avg.LearningRate, gradient);
                var delta = start.Zip(parameters, (w0, w) => w0 - w.detach()).ToArray();
                using (torch.no_grad())
                    for (int i = 0; i < parameters.Length; i++) parameters[i].copy_(start[i]);
                return new Update(UpdateKind.WeightDelta, model.ParameterNames.Zip(delta));
            }
            default:
                throw new NotSupportedException(protocol.Canonical);
        }
    }

    /// <summary>One plain SGD step (no momentum, no weight decay) along <paramref name="gradient"/> (default: the mean loss's).</summary>
    public static void SgdStep(Classifier model, Tensor[] parameters, Batch batch, double learningRate, LocalGradient? gradient = null)
    {
        using var scope = torch.NewDisposeScope();
        var grads = gradient != null ? gradient(model, parameters, batch) : MeanLossGradient(model, parameters, batch);
        // An explicit Scalar kept alive by `using`: an implicit one (alpha: -learningRate) is only finalised by the GC,
        // which in optimised code may run while libtorch still reads it; over thousands of training steps that
        // showed up as rare "Exception raised from toFloat" failures in Release builds.
        using var step = (-learningRate).ToScalar();
        using (torch.no_grad())
            for (int i = 0; i < parameters.Length; i++) parameters[i].add_(grads[i], step);
    }
}
