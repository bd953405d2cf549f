using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Core.Attacks;

/// <summary>
/// A malicious server: an attack that sends each client its own model before the clients compute their updates
/// (docs/attacks.md: the fishing attack's threat model). The harness computes the cell's uploads on the
/// crafted models instead of the shared clean ones, applies the defence pipeline as usual, and puts the patches it
/// sent into the view (<see cref="ServerView.Sent"/>).
/// </summary>
public interface IModelCrafter
{
    /// <summary>
    /// One patch of <paramref name="global"/> per client (index = client). Throws <see cref="NotApplicableException"/>
    /// with the reason when the conditions the attack needs do not hold, before anything is sent.
    /// <paramref name="global"/> must be unchanged when this returns.
    /// </summary>
    IReadOnlyList<ModelPatch> Craft(Classifier global, PublicInfo info, Rng rng);
}
