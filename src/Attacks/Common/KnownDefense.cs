using DefenseBench.Core.Components;
using DefenseBench.Core.Federation;

namespace DefenseBench.Attacks.Common;

/// <summary>
/// What an adaptive attack exploits of a defence it knows (docs/attacks.md, adaptive attacks), read from the view's
/// public description: the clip norm of DP-SGD's per-example clipping (gradient units, per local step), of a whole
/// upload (DP-FedAvg) or of each tensor of an upload (clip-and-noise), both in upload units; top-k's keep fraction and
/// whether it ranks all tensors together (scope global); and whether noise was added.
/// A stage it does not recognise (or zero-mean noise alone) teaches it nothing, so it then attacks as a non-adaptive one.
/// </summary>
public sealed record KnownDefense(double? ExampleClip, double? UpdateClip, double? TensorClip, double? Keep, bool GlobalTopK, bool Noised)
{
    /// <summary>The `adaptive` parameter of every attack that can adapt (on by default: the leaderboard's worst case).</summary>
    public static readonly ParameterSpec Parameter = ParameterSpec.Switch("adaptive", true,
        "the attacker knows the defence's public configuration and adapts to it (clipping, top-k's transmitted coordinates); off: the attack as published, blind to the defence");

    /// <summary>Nothing known: the non-adaptive attacker, or a defence with nothing to adapt to.</summary>
    public static readonly KnownDefense Nothing = new(null, null, null, null, false, false);

    /// <summary>Whether uploads were top-k sparsified: the transmitted coordinates are then the upload's non-zero entries.</summary>
    public bool Sparsified => Keep != null;

    /// <summary>Whether an upload was scaled by a clip of the whole upload or of its tensors (a common factor per tensor).</summary>
    public bool ClipsUpdates => UpdateClip != null || TensorClip != null;

    public static KnownDefense Of(PublicDefense defense)
    {
        var known = Nothing;
        foreach (var stage in defense.Stages)
        {
            double? clip = stage.Real("clip") is { } c && double.IsFinite(c) ? c : null;
            known = stage.Id switch
            {
                "dpsgd" => known with { ExampleClip = Smaller(known.ExampleClip, clip), Noised = known.Noised || stage.Real("z") > 0 },
                "dpfedavg" => known with { UpdateClip = Smaller(known.UpdateClip, clip), Noised = known.Noised || stage.Real("z") > 0 },
                "clipnoise" => known with { TensorClip = Smaller(known.TensorClip, clip), Noised = known.Noised || stage.Real("sigma") > 0 },
                "topk" when stage.Real("keep") is double keep && keep < 1 => known with { Keep = known.Keep ?? keep, GlobalTopK = stage.Text("scope") == "global" },
                "noise" => known with { Noised = known.Noised || stage.Real("scale") > 0 },
                _ => known,
            };
        }
        return known;
    }

    /// <summary>
    /// An upload-units bound in the units of the gradient an attack reads: a FedAvg weight delta is η times the gradient
    /// sum, so its bound C is C/η there; a FedSGD gradient is read as it is.
    /// </summary>
    public static double InGradientUnits(double bound, UpdateKind kind, Protocol protocol) =>
        kind == UpdateKind.WeightDelta && protocol is FedAvg avg ? bound / avg.LearningRate : bound;

    /// <summary>The tighter of two optional bounds.</summary>
    internal static double? Smaller(double? a, double? b) => a is { } x && b is { } y ? Math.Min(x, y) : a ?? b;
}
