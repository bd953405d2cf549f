using DefenseBench.Core.Federation;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Defenses.Privacy;

/// <summary>L2 clipping of whole updates (DP-FedAvg) and of each tensor on its own (the LLG paper's DP).</summary>
public static class Clipping
{
    // Kept alive by the class: square() would make an implicit exponent of 2 inside TorchSharp that may be finalised
    // while libtorch still reads it.
    private static readonly Scalar Two = 2.ToScalar();

    /// <summary>‖u‖₂ over every tensor of the update, accumulated in float64.</summary>
    public static double Norm(Update update) =>
        Math.Sqrt(update.Tensors.Sum(t => t.to(ScalarType.Float64).pow(Two).sum().item<double>()));

    /// <summary>The factor min(1, C/‖x‖) that scales a vector of norm <paramref name="norm"/> into the ball of radius C.</summary>
    public static double Factor(double norm, double clip) => norm > clip ? clip / norm : 1.0;

    /// <summary>u·min(1, C/‖u‖) with one norm over all tensors; the update itself when it is already inside the ball.</summary>
    public static Update ToNorm(Update update, double clip)
    {
        if (double.IsPositiveInfinity(clip)) return update;
        double factor = Factor(Norm(update), clip);
        if (factor == 1.0) return update;
        using var scale = factor.ToScalar(); // explicit and kept alive (see PerExampleGradients.ClippedSum)
        return update.Map((_, t) => t.mul(scale));
    }

    /// <summary>Each tensor t scaled by min(1, C/‖t‖) on its own; tensors already inside the ball are kept as they are.</summary>
    public static Update EachTensor(Update update, double clip)
    {
        if (double.IsPositiveInfinity(clip)) return update;
        return update.Map((_, t) =>
        {
            double factor = Factor(Math.Sqrt(t.to(ScalarType.Float64).pow(Two).sum().item<double>()), clip);
            if (factor == 1.0) return t;
            using var scale = factor.ToScalar();
            return t.mul(scale);
        });
    }
}
