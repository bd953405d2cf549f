using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Defenses.Compression;
using DefenseBench.Defenses.Noise;
using DefenseBench.Defenses.Privacy;

namespace DefenseBench.Defenses;

/// <summary>
/// Every defence by canonical id ("none" is the empty pipeline): client-side transforms and aggregation-side
/// protocols. Adding one = one file + one line here.
/// </summary>
public static class DefenseCatalog
{
    internal static readonly IReadOnlyList<ParameterSpec> TopKParameters =
    [
        ParameterSpec.Real("keep", 0.1, "fraction of entries kept (compression ratio ≈ 1/keep)", 0, 1, minExclusive: true),
        ParameterSpec.Choice("scope", "layer", "layer: per tensor; global: one ranking over all tensors; last-layer: only the FC weight and bias",
            "layer", "global", "last-layer"),
        ParameterSpec.Switch("ef", false, "error feedback: withheld entries are added to the client's next upload"),
    ];

    internal static readonly IReadOnlyList<ParameterSpec> DpParameters =
    [
        ParameterSpec.Real("clip", 1.0, "L2 clipping norm C (inf: no clipping, then z must be 0)", 0, double.PositiveInfinity, minExclusive: true),
        ParameterSpec.Real("z", 1.0, "noise multiplier: noise std ÷ C", 0),
    ];

    internal static readonly IReadOnlyList<ParameterSpec> ClipNoiseParameters =
    [
        ParameterSpec.Real("clip", 10.0, "L2 bound β for each tensor of the upload (inf: no clipping)", 0, double.PositiveInfinity, minExclusive: true),
        ParameterSpec.Real("sigma", 0.1, "absolute std σ of the Gaussian noise on every entry", 0),
    ];

    internal static readonly IReadOnlyList<ParameterSpec> NoiseParameters =
    [
        ParameterSpec.Real("scale", 0.1, "absolute noise scale: the std (gaussian) or b (laplace, std b·√2)", 0),
        ParameterSpec.Choice("dist", "gaussian", "noise distribution", "gaussian", "laplace"),
    ];

    public static readonly Catalog<IDefense> All = new Catalog<IDefense>()
        .Add("topk", "top-k sparsification of each upload by |value|", TopKParameters,
            v => new TopK(v.Real("keep"), ParseScope(v.Choice("scope")), v.Switch("ef")))
        .Add("dpsgd", "example-level DP-SGD: clip each example's gradient to C, add N(0, (z·C)²) to the sum, divide by B (first stage)", DpParameters,
            v => new DpSgd(v.Real("clip"), v.Real("z")))
        .Add("dpfedavg", "client-level DP-FedAvg: clip each upload to C, average m uploads, add N(0, (z·C/m)²); the server sees only the aggregate",
            DpParameters, v => new DpFedAvg(v.Real("clip"), v.Real("z")))
        .Add("clipnoise", "the LLG paper's DP: clip each tensor of the upload to β, add Gaussian noise of std σ", ClipNoiseParameters,
            v => new ClipNoise(v.Real("clip"), v.Real("sigma")))
        .Add("noise", "additive Gaussian or Laplace noise of an absolute scale, no clipping (no finite ε)", NoiseParameters,
            v => new AdditiveNoise(v.Real("scale"), v.Choice("dist") == "laplace" ? NoiseDistribution.Laplace : NoiseDistribution.Gaussian));

    private static TopKScope ParseScope(string scope) => scope switch
    {
        "layer" => TopKScope.Layer,
        "global" => TopKScope.Global,
        "last-layer" => TopKScope.LastLayer,
        _ => throw new ArgumentException($"unknown top-k scope '{scope}'", nameof(scope)),
    };
}
