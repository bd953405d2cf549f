using DefenseBench.Core.Models;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Federation;

/// <summary>A batch of images [B, C, H, W] and labels [B] on the cell's device.</summary>
public sealed record Batch(Tensor Images, Tensor Labels);

/// <summary>
/// How a client turns one batch into the gradient it steps with (and uploads under FedSGD), one tensor per parameter
/// in <paramref name="parameters"/> order. The default is autograd on the mean cross-entropy; a defence that changes
/// the client's computation itself (DP-SGD clips every example's gradient and adds noise) supplies its own.
/// </summary>
public delegate Tensor[] LocalGradient(Classifier model, Tensor[] parameters, Batch batch);

/// <summary>What a client computes from its batches: the FedSGD gradient or the FedAvg weight delta.</summary>
public static class LocalTraining
{
    /// <summary>Mean cross-entropy gradient of every parameter (PyTorch's default reduction; ALGORITHMS.md pitfall 1).</summary>
    public static Tensor[] MeanLossGradient(Classifier model, Tensor[] parameters, Batch batch)
    {
        var loss = functional.cross_entropy(model.forward(batch.Images), batch.Labels);
        return torch.autograd.grad([loss], parameters).Select(g => g.detach()).ToArray();
    }

    /// <summary>The FedSGD upload: the gradient of one batch under <paramref name="gradient"/> (default: the mean loss's).</summary>
    public static Update Gradient(Classifier model, Batch batch, LocalGradient? gradient = null)
    {
        var grads = (gradient ?? MeanLossGradient)(model, model.parameters().ToArray(), batch);
        return new Update(UpdateKind.Gradient, model.ParameterNames.Zip(grads));
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
        var grads = (gradient ?? MeanLossGradient)(model, parameters, batch);
        using (torch.no_grad())
            for (int i = 0; i < parameters.Length; i++) parameters[i].add_(grads[i], alpha: -learningRate);
    }
}
