using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Defenses.Compression;

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

    public static readonly Catalog<IDefense> All = new Catalog<IDefense>()
        .Add("topk", "top-k sparsification of each upload by |value|", TopKParameters,
            v => new TopK(v.Real("keep"), ParseScope(v.Choice("scope")), v.Switch("ef")));

    private static TopKScope ParseScope(string scope) => scope switch
    {
        "layer" => TopKScope.Layer,
        "global" => TopKScope.Global,
        "last-layer" => TopKScope.LastLayer,
        _ => throw new ArgumentException($"unknown top-k scope '{scope}'", nameof(scope)),
    };
}
