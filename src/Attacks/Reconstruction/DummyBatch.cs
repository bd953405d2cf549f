using System.Diagnostics;
using DefenseBench.Core.Data;
using DefenseBench.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// The attacker's dummy batch: inputs x' ~ N(0, 1) and, unless labels are fixed (iDLG), label logits ŷ' ~ N(0, 1),
/// drawn from a CPU generator and moved to the model's device. <see cref="Evaluate"/> is one closure evaluation of
/// gradient matching: dummy loss, its gradient with respect to every model parameter (with a graph), the objective D,
/// and D's backward into the tensors being optimised. The model's weights and .grad fields are never written.
/// </summary>
public sealed class DummyBatch
{
    private readonly Classifier _model;
    private readonly Tensor[] _parameters;
    private readonly Tensor _labels;
    private readonly MatchClock? _clock;

    public DummyBatch(Classifier model, int batchSize, ImageShape shape, int[]? labels, MatchObjective objective, long seed, MatchClock? clock)
    {
        _model = model;
        _parameters = model.parameters().ToArray();
        Objective = objective;
        _clock = clock;
        var device = model.Fc.weight!.device;
        using var generator = new Generator((ulong)seed, torch.CPU);
        Inputs = new Parameter(torch.randn(shape.BatchDims(batchSize), generator: generator).to(device));
        _labels = labels == null
            ? new Parameter(torch.randn([batchSize, model.NumClasses], generator: generator).to(device))
            : torch.tensor(labels.Select(l => (long)l).ToArray(), device: device);
        Dummies = _labels is Parameter learned ? [Inputs, learned] : [Inputs];
    }

    public Parameter Inputs { get; }

    public MatchObjective Objective { get; }

    /// <summary>The dummy inputs, and the label logits when they are learned.</summary>
    public IReadOnlyList<Parameter> Dummies { get; }

    public int Evaluations { get; private set; }

    /// <summary>D at the current dummies; with <paramref name="into"/>, D's gradient is accumulated into those tensors.</summary>
    public Tensor Evaluate(IReadOnlyList<Tensor>? into = null)
    {
        Evaluations++;
        var logits = _model.forward(Inputs);
        var dummyLoss = _labels is Parameter ? MatchingLoss.SoftCrossEntropy(logits, _labels) : functional.cross_entropy(logits, _labels);
        long start = Stopwatch.GetTimestamp();
        // TorchSharp defaults retain_graph to false even with create_graph: D's backward needs both.
        var dummyGradients = torch.autograd.grad([dummyLoss], _parameters, retain_graph: true, create_graph: true);
        var autograd = Stopwatch.GetElapsedTime(start);
        var loss = Objective.Loss(dummyGradients.ToArray());
        if (into != null)
        {
            start = Stopwatch.GetTimestamp();
            loss.backward(inputs: into.ToArray());
            autograd += Stopwatch.GetElapsedTime(start);
        }
        if (_clock != null)
        {
            _clock.Autograd += autograd;
            _clock.Evaluations++;
        }
        return loss;
    }

    /// <summary>The labels the run ends with: argmax of the learned logits, or the fixed ones.</summary>
    public int[] Labels() => (_labels is Parameter ? _labels.detach().argmax(1) : _labels).cpu().data<long>().Select(l => (int)l).ToArray();

    /// <summary>One pixel array per image.</summary>
    public float[][] Images() => Inputs.PerImage();
}
