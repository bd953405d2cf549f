using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DefenseBench.Core.Federation;

/// <summary>
/// Per-example gradients without vmap, as Opacus's hooks compute them: one forward pass whose hooks record the input
/// a of every Linear and Conv2d layer and its output, one backward pass of the summed loss to those outputs (giving
/// each example's output gradient δ), then per layer ∇W_k = δ_k a_kᵀ (Linear) or δ_k · unfold(a_k)ᵀ (Conv2d) and
/// ∇b_k = δ_k summed over positions. Examples never interact in a model without batch norm, so a batch is processed
/// in chunks that bound the memory of the [n, …] per-example tensors.
/// </summary>
public static class PerExampleGradients
{
    /// <summary>Per-example floats held at once (64 MB in float32).</summary>
    private const long ChunkBudget = 16_000_000;

    // Kept alive by the class: `a + b`, add_(b) and square() would each make an implicit Scalar inside TorchSharp (the
    // alpha 1, the exponent 2) that may be finalised while libtorch still reads it.
    private static readonly Scalar One = 1.ToScalar(), Two = 2.ToScalar();

    /// <summary>
    /// DP-SGD's numerator before noise: Σ_k min(1, C/(‖g_k‖ + 10⁻⁶)) · g_k over the examples of <paramref name="batch"/>,
    /// g_k the gradient of example k's own cross-entropy, one tensor per parameter (Opacus's clipping factor).
    /// </summary>
    public static Tensor[] ClippedSum(Classifier model, Tensor[] parameters, Batch batch, double clip, int? chunkSize = null)
    {
        var sums = parameters.Select(p => torch.zeros_like(p).detach()).ToArray();
        // Explicit Scalars kept alive by `using`: an implicit one may be finalised while libtorch still reads it, which
        // over thousands of DP-SGD steps showed up as rare "Exception raised from toFloat" failures.
        using var clipNorm = clip.ToScalar();
        using var epsilon = 1e-6.ToScalar();
        using var one = 1.0.ToScalar();
        foreach (var chunk in Compute(model, parameters, batch, chunkSize))
        {
            using var scope = torch.NewDisposeScope();
            var factor = ClipFactors(chunk, clipNorm, epsilon, one);
            for (int i = 0; i < sums.Length; i++)
                sums[i].add_(torch.tensordot(factor, chunk[i], [0], [0]), One);
        }
        return sums;
    }

    /// <summary>
    /// Each example's clipping factor min(1, C/(‖g_k‖ + 10⁻⁶)) [n] when its gradient over every parameter of
    /// <paramref name="model"/> is clipped to <paramref name="clip"/>, as DP-SGD clips it: what an attacker who knows
    /// the clip norm scales an example's contribution by (docs/attacks.md, adaptive attacks).
    /// </summary>
    public static Tensor ClipFactors(Classifier model, Batch batch, double clip) =>
        torch.cat(Compute(model, model.parameters().ToArray(), batch).Select(chunk => ClipFactors(chunk, clip)).ToArray(), 0);

    /// <summary>The same factors [n] from per-example gradients already computed ([n, …] per parameter).</summary>
    public static Tensor ClipFactors(Tensor[] perExample, double clip)
    {
        using var clipNorm = clip.ToScalar();
        using var epsilon = 1e-6.ToScalar();
        using var one = 1.0.ToScalar();
        return ClipFactors(perExample, clipNorm, epsilon, one);
    }

    private static Tensor ClipFactors(Tensor[] perExample, Scalar clipNorm, Scalar epsilon, Scalar one)
    {
        var squared = perExample.Select(g => g.flatten(1).pow(Two).sum(1)).Aggregate((a, b) => a.add(b, One));
        return squared.sqrt().add_(epsilon, One).reciprocal_().mul_(clipNorm).clamp_max(one);
    }

    /// <summary>
    /// Per-example gradients [n, …parameter shape] for each parameter, chunk by chunk of the batch; chunks hold at most
    /// <paramref name="chunkSize"/> examples (default: up to 256, fewer for big models).
    /// </summary>
    public static IEnumerable<Tensor[]> Compute(Classifier model, Tensor[] parameters, Batch batch, int? chunkSize = null)
    {
        if (model.HasBatchNorm && model.training)
            throw new NotApplicableException($"per-example gradients are undefined for {model.GetName()} in train mode: batch norm mixes the examples of a batch");
        var layers = Layers(model, parameters);
        long perExample = parameters.Sum(p => p.numel());
        int size = (int)batch.Labels.shape[0];
        int chunk = chunkSize ?? (int)Math.Clamp(ChunkBudget / Math.Max(1, perExample), 1, 256);
        for (int start = 0; start < size; start += chunk)
        {
            int n = Math.Min(chunk, size - start);
            yield return Chunk(model, layers, parameters.Length,
                new Batch(batch.Images.narrow(0, start, n), batch.Labels.narrow(0, start, n)));
        }
    }

    /// <summary>A Linear or Conv2d layer and the positions of its weight and bias among the parameters.</summary>
    private sealed record Layer(nn.Module<Tensor, Tensor> Module, int Weight, int? Bias);

    /// <summary>One record of a layer's forward call: its input and output.</summary>
    private sealed record Call(Layer Layer, Tensor Input, Tensor Output);

    private static Tensor[] Chunk(Classifier model, IReadOnlyList<Layer> layers, int count, Batch batch)
    {
        var calls = new List<Call>();
        var removers = layers.Select(layer => layer.Module.register_forward_hook((_, input, output) =>
        {
            calls.Add(new Call(layer, input, output));
            return output;
        })).ToArray();
        try
        {
            var loss = torch.nn.functional.cross_entropy(model.forward(batch.Images), batch.Labels, reduction: nn.Reduction.Sum);
            var silent = layers.Where(l => calls.All(c => c.Layer != l)).Select(l => l.Module.GetName()).ToArray();
            if (silent.Length > 0)
                throw new InvalidOperationException($"{model.GetName()} runs {string.Join(", ", silent)} with forward() instead of call(), so per-example gradients cannot see it");
            var outputGrads = torch.autograd.grad([loss], calls.Select(c => c.Output).ToArray());
            var grads = new Tensor?[count];
            for (int i = 0; i < calls.Count; i++)
            {
                var (weight, bias) = LayerGradients(calls[i].Layer.Module, calls[i].Input.detach(), outputGrads[i].detach());
                Accumulate(grads, calls[i].Layer.Weight, weight);
                if (calls[i].Layer.Bias is { } b) Accumulate(grads, b, bias);
            }
            return grads.Select(g => g!).ToArray();
        }
        finally
        {
            foreach (var remover in removers) remover.remove();
        }
    }

    /// <summary>A layer called twice (shared weights) contributes the sum of its calls.</summary>
    private static void Accumulate(Tensor?[] grads, int index, Tensor value) => grads[index] = grads[index] is { } g ? g.add(value, One) : value;

    /// <summary>Per-example weight and bias gradients of one call from its input a and output gradient δ.</summary>
    private static (Tensor Weight, Tensor Bias) LayerGradients(nn.Module<Tensor, Tensor> module, Tensor input, Tensor delta)
    {
        switch (module)
        {
            case Linear:
                // y = a Wᵀ + b per example: ∇W_k = δ_k a_kᵀ, ∇b_k = δ_k.
                return (torch.bmm(delta.unsqueeze(2), input.unsqueeze(1)), delta);
            case Conv2d conv:
            {
                var k = conv.kernel_size;
                var unfolded = torch.nn.functional.unfold(input, (k[0], k[1]), dilation: (conv.dilation[0], conv.dilation[1]),
                    padding: (conv.padding![0], conv.padding[1]), stride: (conv.stride[0], conv.stride[1]));
                var d = delta.flatten(2);
                var weight = torch.bmm(d, unfolded.transpose(1, 2)).view([input.shape[0], .. conv.weight.shape]);
                return (weight, d.sum(2));
            }
            default:
                throw new InvalidOperationException($"no per-example rule for {module.GetType().Name}");
        }
    }

    /// <summary>
    /// The model's Linear and Conv2d layers with their parameters' positions; every parameter must belong to one of
    /// them, or the per-example gradients would silently miss it.
    /// </summary>
    private static List<Layer> Layers(Classifier model, Tensor[] parameters)
    {
        var names = model.ParameterNames;
        if (names.Count != parameters.Length) throw new ArgumentException("one tensor per model parameter is needed", nameof(parameters));
        var position = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        var layers = new List<Layer>();
        var covered = new HashSet<int>();
        foreach (var (name, module) in model.named_modules())
        {
            string prefix = name.Length == 0 ? "" : name + ".";
            switch (module)
            {
                case Conv2d conv when conv.groups != 1 || conv.padding == null || conv.padding_mode != PaddingModes.Zeros:
                    throw new NotApplicableException($"per-example gradients support plain Conv2d layers; {name} uses groups, 'same' padding or a non-zero padding mode");
                case Linear or Conv2d:
                    int weight = position[prefix + "weight"];
                    int? bias = position.TryGetValue(prefix + "bias", out int b) ? b : null;
                    layers.Add(new Layer((nn.Module<Tensor, Tensor>)module, weight, bias));
                    covered.Add(weight);
                    if (bias is { } bi) covered.Add(bi);
                    break;
            }
        }
        var missing = names.Where((_, i) => !covered.Contains(i)).ToArray();
        if (missing.Length > 0)
            throw new NotApplicableException($"per-example gradients cover Linear and Conv2d layers only; {model.GetName()} has parameters outside them ({string.Join(", ", missing)})");
        return layers;
    }
}
