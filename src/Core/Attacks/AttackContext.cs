using DefenseBench.Core.Data;
using DefenseBench.Core.Randomness;
using static TorchSharp.torch;

namespace DefenseBench.Core.Attacks;

/// <summary>Auxiliary data an attacker may hold (LLG+): samples of the training distribution, not the victims'.</summary>
public interface IAuxiliaryData
{
    ImageShape Shape { get; }
    int NumClasses { get; }

    /// <summary><paramref name="perClass"/> distinct images of every class, class-major ([C·perClass, ...]), with labels.</summary>
    (Tensor Images, int[] Labels) Pool(int perClass, Rng rng, Device device);
}

/// <summary>
/// What the harness lends an attack besides the view: the device, a seeded stream, auxiliary data, and, only for
/// attacks that declare <see cref="AttackNeeds.KnownClasses"/>, the classes present in a target (a client index or
/// <see cref="LabelRecovery.Aggregate"/>).
/// </summary>
public sealed record AttackContext(Device Device, Rng Rng, IAuxiliaryData? Auxiliary = null, Func<int, int[]>? KnownClasses = null);
