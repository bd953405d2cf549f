using System.Diagnostics;
using DefenseBench.Core.Data;
using DefenseBench.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// One reconstruction problem: the server's model it is matched on (restarts of one victim share it), the labels it
/// fixes (iDLG; null learns soft labels) and the seed of its dummies.
/// </summary>
public sealed record MatchProblem(Classifier Model, int[]? Labels, long Seed);

/// <summary>
/// The attacker's dummies for P independent gradient-matching problems of one batch size, optimised together: inputs
/// x' ~ N(0, 1) [P, B, ...] and, unless labels are fixed (iDLG), label logits ŷ' ~ N(0, 1) [P, B, C], each problem's
/// drawn from its own CPU generator (inputs first, then labels, as one problem alone draws them) and moved to the
/// models' device and precision. <see cref="Evaluate"/> is one closure evaluation of every problem: dummy loss, its gradient with
/// respect to each problem's model parameters (with a graph), the objective's D per problem, and the backward of ΣD
/// into the tensors being optimised (problem p's D depends on problem p's tensors only, so each gets its own gradient).
/// Several problems run as one graph through <see cref="Classifier.ForwardStacked"/> (their weights stacked) when the
/// architecture allows it; one problem, or a model that does not stack, runs through the model itself, problem by problem.
/// The models' weights and .grad fields are never written.
/// </summary>
public sealed class ProblemSet
{
    private readonly IReadOnlyList<MatchProblem> _problems;
    private readonly Tensor? _fixedLabels;
    private readonly MatchClock? _clock;
    // Stacked mode: every parameter of every problem's model, [P, ...] by name, a leaf of its own for the dummy gradient.
    private readonly Dictionary<string, Tensor>? _stacked;
    private readonly Tensor[][] _perProblem;
    // Kept alive by the class: `a + b` would make an implicit alpha of 1 inside TorchSharp that may be finalised while
    // libtorch still reads it.
    private static readonly Scalar One = 1.ToScalar();

    public ProblemSet(IReadOnlyList<MatchProblem> problems, int batchSize, ImageShape shape, MatchObjective objective, MatchClock? clock, bool stack = true)
    {
        _problems = problems;
        Objective = objective;
        _clock = clock;
        var model = problems[0].Model;
        var device = model.Fc.weight!.device;
        var dtype = model.Fc.weight!.dtype;
        bool fixedLabels = problems[0].Labels != null;
        if (problems.Any(p => (p.Labels != null) != fixedLabels))
            throw new ArgumentException("the problems of one set either all fix their labels or all learn them", nameof(problems));
        var inputs = new List<Tensor>();
        var labels = new List<Tensor>();
        using (var scope = torch.NewDisposeScope())
        {
            foreach (var problem in problems)
            {
                using var generator = new Generator((ulong)problem.Seed, torch.CPU);
                inputs.Add(torch.randn(shape.BatchDims(batchSize), generator: generator));
                if (!fixedLabels) labels.Add(torch.randn([batchSize, model.NumClasses], generator: generator));
            }
            Inputs = new Parameter(torch.stack(inputs).to(dtype, device).MoveToOuterDisposeScope());
            LabelLogits = fixedLabels ? null : new Parameter(torch.stack(labels).to(dtype, device).MoveToOuterDisposeScope());
        }
        _fixedLabels = fixedLabels ? torch.tensor(problems.SelectMany(p => p.Labels!.Select(l => (long)l)).ToArray(), device: device) : null;
        Dummies = LabelLogits is { } learned ? [Inputs, learned] : [Inputs];
        _perProblem = problems.Select(p => p.Model.parameters().Select(t => (Tensor)t).ToArray()).ToArray();
        if (stack && problems.Count > 1 && problems.All(p => p.Model.CanStack && p.Model.GetType() == model.GetType()))
            _stacked = model.ParameterNames.Select((name, i) => (name, i)).ToDictionary(x => x.name,
                x => torch.stack(_perProblem.Select(p => p[x.i].detach()).ToArray()).requires_grad_(true));
    }

    public int Count => _problems.Count;

    /// <summary>Dummy inputs [P, B, ...].</summary>
    public Parameter Inputs { get; }

    /// <summary>Learned label logits [P, B, C], or null when labels are fixed.</summary>
    public Parameter? LabelLogits { get; }

    public MatchObjective Objective { get; }

    /// <summary>The dummy inputs, and the label logits when they are learned.</summary>
    public IReadOnlyList<Parameter> Dummies { get; }

    /// <summary>Whether the problems run as one stacked graph (rather than problem by problem).</summary>
    public bool IsStacked => _stacked != null;

    /// <summary>
    /// D of every problem, [P], plus the objective's image prior unless <paramref name="withPrior"/> is false; with
    /// <paramref name="into"/>, the sum's gradient is accumulated into those tensors. With <paramref name="only"/>, the
    /// dummy gradients (the forward and double backward through the model, nearly all of the cost) are computed for
    /// those problems alone and are zero for the others, whose D and gradients are then meaningless: an optimiser
    /// passes the problems still stepping, so a set costs what its moving problems cost.
    /// </summary>
    public Tensor Evaluate(IReadOnlyList<Tensor>? into = null, bool withPrior = true, bool[]? only = null)
    {
        long start = Stopwatch.GetTimestamp();
        int[]? rows = only is null || only.All(o => o) ? null : [.. Enumerable.Range(0, Count).Where(p => only[p])];
        var dummyGradients = _stacked != null ? StackedGradients(_stacked, rows) : LoopedGradients(rows);
        var autograd = Stopwatch.GetElapsedTime(start);
        var loss = Objective.Losses(dummyGradients);
        if (withPrior && Objective.Prior(Inputs) is { } prior) loss = loss.add(prior, One);
        if (into != null)
        {
            start = Stopwatch.GetTimestamp();
            loss.sum().backward(inputs: into.ToArray());
            autograd += Stopwatch.GetElapsedTime(start);
        }
        if (_clock != null)
        {
            _clock.Autograd += autograd;
            _clock.Evaluations++;
            _clock.ProblemEvaluations += rows?.Length ?? Count;
        }
        return loss;
    }

    // TorchSharp defaults retain_graph to false even with create_graph: D's backward needs both.
    private static Tensor[] Grad(Tensor loss, IReadOnlyList<Tensor> parameters) =>
        torch.autograd.grad([loss], parameters.ToArray(), retain_graph: true, create_graph: true).ToArray();

    private Tensor[] StackedGradients(Dictionary<string, Tensor> stacked, int[]? rows)
    {
        var index = rows is null ? null : torch.tensor(rows.Select(r => (long)r).ToArray(), device: Inputs.device);
        Tensor Rows(Tensor t) => index is null ? t : t.index_select(0, index);
        var weights = stacked.Values.Select(Rows).ToArray();
        var logits = _problems[0].Model.ForwardStacked(Rows(Inputs), stacked.Keys.Zip(weights).ToDictionary(x => x.First, x => x.Second));
        long count = rows?.Length ?? Count;
        var dummyLoss = LabelLogits is { } learned
            ? MatchingLoss.SoftCrossEntropy(logits, Rows(learned))
            : functional.cross_entropy(logits.flatten(0, 1), Rows(_fixedLabels!.view(Count, -1)).flatten(), reduction: Reduction.None).view(count, -1).mean([1]);
        // Problem p's loss depends on its own weights only, so the gradient of the sum is each problem's own gradient.
        var gradients = Grad(dummyLoss.sum(), weights);
        // The skipped problems' rows stay zero; out-of-place index_copy keeps the graph to the computed rows.
        return index is null ? gradients : [.. gradients.Zip(stacked.Values, (g, w) => torch.zeros_like(w).index_copy(0, index, g))];
    }

    private Tensor[] LoopedGradients(int[]? rows)
    {
        var perProblem = new Tensor[Count][];
        long batch = Inputs.shape[1];
        var computed = rows?.ToHashSet();
        for (int p = 0; p < Count; p++)
        {
            if (computed != null && !computed.Contains(p))
            {
                perProblem[p] = [.. _perProblem[p].Select(t => torch.zeros_like(t))];
                continue;
            }
            var logits = _problems[p].Model.forward(Inputs[p]);
            var dummyLoss = LabelLogits is { } learned
                ? MatchingLoss.SoftCrossEntropy(logits, learned[p])
                : functional.cross_entropy(logits, _fixedLabels!.narrow(0, p * batch, batch));
            perProblem[p] = Grad(dummyLoss, _perProblem[p]);
        }
        return Count == 1
            ? perProblem[0].Select(g => g.unsqueeze(0)).ToArray()
            : Enumerable.Range(0, perProblem[0].Length).Select(l => torch.stack(perProblem.Select(g => g[l]).ToArray())).ToArray();
    }

    /// <summary>Problem p's labels at the end: argmax of its learned logits, or the fixed ones.</summary>
    public int[] Labels(int p) => _problems[p].Labels ?? LabelLogits!.detach()[p].argmax(1).cpu().data<long>().Select(l => (int)l).ToArray();

    /// <summary>Problem p's images, one pixel array each.</summary>
    public float[][] Images(int p)
    {
        using var scope = torch.NewDisposeScope();
        return Inputs.detach()[p].to(ScalarType.Float32).PerImage();
    }
}
