using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Defenses.Compression;
using DefenseBench.Defenses.SecureAggregation;
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

    /// <summary>SecAgg's parameters (docs/defences.md; defaults after Flower: R = 2^32, Q = 2^22, c = 8, max_weight = 1000).</summary>
    internal static readonly IReadOnlyList<ParameterSpec> SecAggParameters =
    [
        ParameterSpec.Real("threshold", 0.6, "Shamir threshold t as a fraction of a client's neighbours, t = ceil(threshold*k)", 0, 1, minExclusive: true),
        ParameterSpec.Integer("modulus_bits", 32, "masked inputs live in Z_R with R = 2^modulus_bits", 8, 63),
        ParameterSpec.Integer("quant_bits", 22, "Q = 2^quant_bits quantisation levels over [-clip, clip]", 1, 48),
        ParameterSpec.Real("clip", 8.0, "clip range c: each weighted value is clipped to [-c, c] before quantisation", 0, double.PositiveInfinity, minExclusive: true),
        ParameterSpec.Real("max_weight", 1000, "a client's FedAvg weight is w = batch size / max_weight", 0, double.PositiveInfinity, minExclusive: true),
        ParameterSpec.Real("dropout", 0, "fraction of clients that drop out (simulated; the attacks are not told who)", 0, 1, maxExclusive: true),
        ParameterSpec.Choice("dropout_phase", "mask", "round the dropped clients leave in: advertise (keys), share (shares), mask (masked input), unmask, any (one drawn per client)",
            "advertise", "share", "mask", "unmask", "any"),
    ];

    internal static readonly IReadOnlyList<ParameterSpec> SecAggPlusParameters =
        [ParameterSpec.Integer("degree", 10, "neighbours per client in the SecAgg+ ring (even: degree/2 on each side)", 2, 100000), .. SecAggParameters];

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

    /// <summary>Every defence, each with its <see cref="DefenseTraits"/> (the options whose effect lives in state across rounds).</summary>
    public static readonly Catalog<IDefense, DefenseTraits> All = new Catalog<IDefense, DefenseTraits>()
        .Add("topk", "top-k sparsification of each upload by |value|", new DefenseTraits([new StatefulOption("ef", "off")]), TopKParameters,
            v => new TopK(v.Real("keep"), ParseScope(v.Choice("scope")), v.Switch("ef")))
        .Add("secagg", "SecAgg (Bonawitz et al. 2017): real masking protocol, every client a neighbour; the server sees only the aggregate",
            DefenseTraits.Stateless, SecAggParameters, v => SecAggFrom(v, null))
        .Add("secagg-plus", "SecAgg+ (Bell et al. 2020): SecAgg over a random ring of the given degree",
            DefenseTraits.Stateless, SecAggPlusParameters, v => SecAggFrom(v, EvenDegree(v.Integer("degree"))))
        .Add("dpsgd", "example-level DP-SGD: clip each example's gradient to C, add N(0, (z·C)²) to the sum, divide by B (first stage)", DefenseTraits.Stateless, DpParameters,
            v => new DpSgd(v.Real("clip"), v.Real("z")))
        .Add("dpfedavg", "client-level DP-FedAvg: clip each upload to C, average m uploads, add N(0, (z·C/m)²); the server sees only the aggregate",
            DefenseTraits.Stateless, DpParameters, v => new DpFedAvg(v.Real("clip"), v.Real("z")))
        .Add("clipnoise", "the LLG paper's DP: clip each tensor of the upload to β, add Gaussian noise of std σ", DefenseTraits.Stateless, ClipNoiseParameters,
            v => new ClipNoise(v.Real("clip"), v.Real("sigma")))
        .Add("noise", "additive Gaussian or Laplace noise of an absolute scale, no clipping (no finite ε)", DefenseTraits.Stateless, NoiseParameters,
            v => new AdditiveNoise(v.Real("scale"), v.Choice("dist") == "laplace" ? NoiseDistribution.Laplace : NoiseDistribution.Gaussian));

    private static SecAgg SecAggFrom(ParameterValues v, int? degree) =>
        new(degree, v.Real("threshold"), v.Integer("modulus_bits"), v.Integer("quant_bits"), v.Real("clip"), v.Real("max_weight"), v.Real("dropout"),
            Enum.Parse<DropoutRound>(v.Choice("dropout_phase"), ignoreCase: true));

    private static int EvenDegree(int degree) => degree % 2 == 0 ? degree
        : throw new InputException($"secagg-plus degree: {degree} is odd; the ring joins degree/2 neighbours on each side", "write an even degree");

    private static TopKScope ParseScope(string scope) => scope switch
    {
        "layer" => TopKScope.Layer,
        "global" => TopKScope.Global,
        "last-layer" => TopKScope.LastLayer,
        _ => throw new ArgumentException($"unknown top-k scope '{scope}'", nameof(scope)),
    };
}
