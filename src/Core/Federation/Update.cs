using static TorchSharp.torch;

namespace DefenseBench.Core.Federation;

/// <summary>What an upload holds: gradients (FedSGD) or weight deltas (FedAvg).</summary>
public enum UpdateKind
{
    /// <summary>∇L of the mean cross-entropy (FedSGD).</summary>
    Gradient,

    /// <summary>W_old − W_new = η Σ_t ∇_t after U local SGD steps (FedAvg). Same sign as a gradient (docs/attacks.md, sign and units).</summary>
    WeightDelta,
}

/// <summary>
/// One client's upload: named tensors in the model's parameter order. The tensors belong to the dispose scope they
/// were created in; transforms return new updates and never modify their input.
/// </summary>
public sealed class Update
{
    private readonly string[] _names;
    private readonly Tensor[] _tensors;

    public Update(UpdateKind kind, IEnumerable<(string Name, Tensor Value)> tensors)
    {
        Kind = kind;
        var list = tensors.ToList();
        _names = list.Select(t => t.Name).ToArray();
        _tensors = list.Select(t => t.Value).ToArray();
        if (_names.Distinct(StringComparer.Ordinal).Count() != _names.Length)
            throw new ArgumentException("update tensor names must be unique", nameof(tensors));
    }

    public UpdateKind Kind { get; }
    public IReadOnlyList<string> Names => _names;
    public IReadOnlyList<Tensor> Tensors => _tensors;
    public int Count => _names.Length;

    public Tensor this[string name]
    {
        get
        {
            int i = Array.IndexOf(_names, name);
            return i >= 0 ? _tensors[i] : throw new KeyNotFoundException($"the update has no tensor '{name}' (it has {string.Join(", ", _names)})");
        }
    }

    public bool Contains(string name) => Array.IndexOf(_names, name) >= 0;

    public IEnumerable<(string Name, Tensor Value)> Entries => _names.Zip(_tensors);

    /// <summary>A new update with every tensor transformed (name, tensor) → tensor.</summary>
    public Update Map(Func<string, Tensor, Tensor> transform) =>
        new(Kind, _names.Select((n, i) => (n, transform(n, _tensors[i]))));

    /// <summary>A deep copy, detached from any graph.</summary>
    public Update Clone() => Map((_, t) => t.detach().clone());

    /// <summary>Total number of scalars.</summary>
    public long ElementCount => _tensors.Sum(t => t.numel());

    /// <summary>Moves every tensor to the enclosing dispose scope's parent so it outlives the current scope.</summary>
    public Update MoveToOuterDisposeScope()
    {
        foreach (var t in _tensors) t.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>True when both updates have the same names and bit-identical values.</summary>
    public bool IdenticalTo(Update other) =>
        Kind == other.Kind && _names.SequenceEqual(other._names) &&
        _tensors.Zip(other._tensors).All(p => p.First.shape.SequenceEqual(p.Second.shape) && p.First.eq(p.Second).all().item<bool>());
}
