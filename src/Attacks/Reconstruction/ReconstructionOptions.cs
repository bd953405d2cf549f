using DefenseBench.Attacks.Common;
using DefenseBench.Core.Components;
using DefenseBench.Core.Models;
using TorchSharp.Modules;

namespace DefenseBench.Attacks.Reconstruction;

/// <summary>
/// The optimiser settings every gradient-matching attack takes. "auto" and 0 stand for the reference code's choices
/// (the DLG and DLM codes' settings): L-BFGS with lr 1 for 300 steps on convolutional models (the DLG LeNet), Adam for 5000 steps on
/// MLPs (DLM's MLP2) with lr 0.1, or 0.01 for DLM+.
/// <see cref="Adaptive"/>: the attacker matches through the defence it knows (<see cref="DefenseAwareMatch"/>).
/// </summary>
public sealed record ReconstructionOptions(string Optimizer, double LearningRate, int Iterations, int Restarts, bool Adaptive = false)
{
    public static readonly IReadOnlyList<ParameterSpec> Parameters =
    [
        ParameterSpec.Choice("optimizer", "auto", "auto: L-BFGS for convolutional models, Adam for MLPs (the DLG/DLM code's choices)", "auto", "lbfgs", "adam"),
        ParameterSpec.Real("lr", 0, "learning rate; 0: the reference's (L-BFGS 1, Adam 0.1, DLM+ with Adam 0.01)", 0),
        ParameterSpec.Integer("iterations", 0, "optimiser steps (an L-BFGS step runs up to 20 inner iterations); 0: L-BFGS 300, Adam 5000", 0, 10_000_000),
        ParameterSpec.Integer("restarts", 1, "independent runs from fresh dummies; the one with the lowest matching loss is kept", 1, 1000),
        KnownDefense.Parameter,
    ];

    public static ReconstructionOptions From(ParameterValues v) =>
        new(v.Choice("optimizer"), v.Real("lr"), v.Integer("iterations"), v.Integer("restarts"), v.Switch("adaptive"));

    /// <summary>The concrete settings for <paramref name="model"/>; <paramref name="adamRate"/> is the attack's reference Adam rate.</summary>
    public MatchSettings Resolve(Classifier model, double adamRate = 0.1)
    {
        var optimizer = Optimizer switch
        {
            "lbfgs" => MatchOptimizer.Lbfgs,
            "adam" => MatchOptimizer.Adam,
            _ => model.modules().Any(m => m is Conv2d) ? MatchOptimizer.Lbfgs : MatchOptimizer.Adam,
        };
        bool lbfgs = optimizer == MatchOptimizer.Lbfgs;
        return new MatchSettings(optimizer,
            LearningRate > 0 ? LearningRate : lbfgs ? 1.0 : adamRate,
            Iterations > 0 ? Iterations : lbfgs ? 300 : 5000,
            Restarts);
    }
}
