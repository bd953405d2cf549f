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

    /// <summary>
    /// Every defence, each with its <see cref="DefenseTraits"/> (the options whose effect lives in state across rounds).
    /// Each factory hands the component the <see cref="ParameterValues"/> it is made with, and the component writes its
    /// canonical name from them, so no class lists its parameters a second time.
    /// </summary>
    public static readonly Catalog<IDefense, DefenseTraits> All = new Catalog<IDefense, DefenseTraits>()
        .Add("topk", "top-k sparsification of each upload by |value|", new DefenseTraits([new StatefulOption("ef", "off")]), TopKParameters,
            v => new Compression.TopK(v))
        .Add("secagg", "SecAgg (Bonawitz et al. 2017): real masking protocol, every client a neighbour; the server sees only the aggregate",
            DefenseTraits.Stateless, SecAggParameters, v => new SecureAggregation.SecAgg(v, null))
        .Add("secagg-plus", "SecAgg+ (Bell et al. 2020): SecAgg over a random ring of the given degree",
            DefenseTraits.Stateless, SecAggPlusParameters, v => new SecureAggregation.SecAgg(v, EvenDegree(v.Integer("degree"))))
        .Add("dpsgd", "example-level DP-SGD: clip each example's gradient to C, add N(0, (z·C)²) to the sum, divide by B (first stage)", DefenseTraits.Stateless, DpParameters,
            v => new Privacy.DpSgd(v))
        .Add("dpfedavg", "client-level DP-FedAvg: clip each upload to C, average m uploads, add N(0, (z·C/m)²); the server sees only the aggregate",
            DefenseTraits.Stateless, DpParameters, v => new Privacy.DpFedAvg(v))
        .Add("clipnoise", "the LLG paper's DP: clip each tensor of the upload to β, add Gaussian noise of std σ", DefenseTraits.Stateless, ClipNoiseParameters,
            v => new Privacy.ClipNoise(v))
        .Add("noise", "additive Gaussian or Laplace noise of an absolute scale, no clipping (no finite ε)", DefenseTraits.Stateless, NoiseParameters,
            v => new Noise.AdditiveNoise(v));

    // Typed shortcuts for code that builds a defence directly (tests, benches): each goes through its catalog entry,
    // so a direct defence has the same values, checks and canonical name as one written in a matrix.

    public static Compression.TopK TopK(double keep, TopKScope scope, bool errorFeedback) =>
        Create<Compression.TopK>("topk", new() { ["keep"] = keep, ["scope"] = Compression.TopK.ScopeName(scope), ["ef"] = errorFeedback });

    /// <summary>SecAgg (<paramref name="degree"/> null) or SecAgg+ over a ring of that degree.</summary>
    public static SecureAggregation.SecAgg SecAgg(int? degree, double threshold, int modulusBits, int quantBits, double clip, double maxWeight,
        double dropout, DropoutRound dropoutRound)
    {
        var given = new Dictionary<string, object>
        {
            ["threshold"] = threshold, ["modulus_bits"] = modulusBits, ["quant_bits"] = quantBits, ["clip"] = clip,
            ["max_weight"] = maxWeight, ["dropout"] = dropout, ["dropout_phase"] = SecureAggregation.SecAgg.RoundName(dropoutRound),
        };
        if (degree is { } k) given["degree"] = k;
        return Create<SecureAggregation.SecAgg>(degree == null ? "secagg" : "secagg-plus", given);
    }

    public static Privacy.DpSgd DpSgd(double clip, double noiseMultiplier) =>
        Create<Privacy.DpSgd>("dpsgd", new() { ["clip"] = clip, ["z"] = noiseMultiplier });

    public static Privacy.DpFedAvg DpFedAvg(double clip, double noiseMultiplier) =>
        Create<Privacy.DpFedAvg>("dpfedavg", new() { ["clip"] = clip, ["z"] = noiseMultiplier });

    public static Privacy.ClipNoise ClipNoise(double clip, double sigma) =>
        Create<Privacy.ClipNoise>("clipnoise", new() { ["clip"] = clip, ["sigma"] = sigma });

    public static Noise.AdditiveNoise AdditiveNoise(double scale, NoiseDistribution distribution) =>
        Create<Noise.AdditiveNoise>("noise", new() { ["scale"] = scale, ["dist"] = Noise.AdditiveNoise.DistributionName(distribution) });

    /// <summary>The entry's component made from its defaults overridden by <paramref name="given"/> (checked as a matrix's values are).</summary>
    private static T Create<T>(string id, Dictionary<string, object> given) where T : IDefense
    {
        var entry = All.Get(id);
        return (T)entry.Create(ParameterValues.Create(entry.Parameters, given));
    }

    private static int EvenDegree(int degree) => degree % 2 == 0 ? degree
        : throw new InputException($"secagg-plus degree: {degree} is odd; the ring joins degree/2 neighbours on each side", "write an even degree");
}
