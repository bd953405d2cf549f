using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Models;

/// <summary>
/// Values a malicious server writes into named parameters and buffers of the model it sends one client (e.g. the
/// fishing attack's batch-norm scale, shift and running statistics). A patch instead of a copy of the model: the
/// server changes one layer, so K clients cost K small tensors, not K models.
/// </summary>
public sealed class ModelPatch(IReadOnlyDictionary<string, Tensor> values)
{
    /// <summary>New values by state-dict name ("bn.weight", "bn.running_mean", ...).</summary>
    public IReadOnlyDictionary<string, Tensor> Values { get; } = values;

    /// <summary>
    /// Writes the values into <paramref name="model"/> in place; disposing the result writes the previous values back,
    /// so the model is unchanged afterwards (forward passes in train mode may still move running statistics that
    /// the patch does not name).
    /// </summary>
    public IDisposable ApplyTo(Classifier model)
    {
        var state = model.state_dict();
        var saved = new List<(Tensor Target, Tensor Previous)>();
        using (torch.no_grad())
        {
            foreach (var (name, value) in Values)
            {
                if (!state.TryGetValue(name, out var target))
                    throw new ArgumentException($"the model has no parameter or buffer '{name}'", nameof(model));
                if (!target.shape.SequenceEqual(value.shape))
                    throw new ArgumentException($"'{name}' has shape [{string.Join(", ", target.shape)}], the patch [{string.Join(", ", value.shape)}]", nameof(model));
                saved.Add((target, target.detach().clone()));
                target.copy_(value);
            }
        }
        return new Restore(saved);
    }

    private sealed class Restore(List<(Tensor Target, Tensor Previous)> saved) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            using (torch.no_grad())
                foreach (var (target, previous) in saved) target.copy_(previous);
        }
    }
}
