using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Core.Models;

/// <summary>
/// An image classifier whose last layer is a fully-connected layer named "fc". Attacks locate the last layer by that
/// name (iLRG, EBI and Fishing need the bias; docs/attacks.md), never by parameter position, and can ask for the embedding e (the input of fc).
/// Models run their layers with <c>call</c>, not <c>forward</c>: only <c>call</c> runs forward hooks, and DP-SGD's
/// per-example gradients read every layer's input through them.
/// </summary>
public abstract class Classifier : Module<Tensor, Tensor>
{
    public const string FcWeight = "fc.weight";
    public const string FcBias = "fc.bias";

    protected Classifier(string name, int numClasses) : base(name) => NumClasses = numClasses;

    public int NumClasses { get; }

    /// <summary>The last fully-connected layer (C outputs).</summary>
    public abstract Linear Fc { get; }

    /// <summary>Width d of the embedding, the input of <see cref="Fc"/>.</summary>
    public int EmbeddingSize => (int)Fc.weight!.shape[1];

    /// <summary>Whether any batch-norm layer makes the output depend on the batch in train mode.</summary>
    public virtual bool HasBatchNorm => false;

    /// <summary>
    /// The state-dict prefix of a batch-norm layer that every path from the input to <see cref="Fc"/> crosses, with no
    /// train-mode dropout after it (e.g. "bn"), or null when there is none. Scale 0 there makes the embedding
    /// independent of the input in train and eval mode alike, which the fishing attack relies on (docs/attacks.md, Fishing).
    /// </summary>
    public virtual string? DominatingBatchNorm => null;

    /// <summary>The embedding e(x) of a batch: everything before the last layer.</summary>
    public abstract Tensor Embed(Tensor x);

    public override Tensor forward(Tensor x) => Fc.call(Embed(x));

    /// <summary>Initialises every parameter from <paramref name="generator"/> (a CPU generator; call before moving to a device).</summary>
    public abstract void Initialize(Generator generator);

    /// <summary>Whether <see cref="ForwardStacked"/> runs P copies of this architecture in one graph.</summary>
    public virtual bool CanStack => false;

    /// <summary>
    /// The logits [P, B, C] of P copies of this architecture on inputs [P, B, ...], copy p with the parameters
    /// <paramref name="parameters"/>[name][p] (every parameter by its name in <see cref="ParameterNames"/>, stacked
    /// [P, ...]); see <see cref="Stacked"/>. Only for models whose <see cref="CanStack"/> is true: batch norm (whose
    /// running statistics train mode updates) and residual models are run copy by copy.
    /// </summary>
    public virtual Tensor ForwardStacked(Tensor x, IReadOnlyDictionary<string, Tensor> parameters) =>
        throw new NotSupportedException($"{GetName()} does not run stacked copies");

    /// <summary>Parameter names in autograd order, e.g. "conv1.weight", ..., "fc.weight", "fc.bias".</summary>
    public IReadOnlyList<string> ParameterNames => named_parameters().Select(p => p.name).ToArray();
}
