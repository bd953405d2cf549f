using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Defenses;

/// <summary>The session of a defence that keeps no per-client state: every upload goes through the same function.</summary>
internal sealed class StatelessSession(Func<Update, Rng, Update> apply) : IClientDefenseSession
{
    public static readonly StatelessSession PassThrough = new((upload, _) => upload);

    public Update Apply(Update upload, Rng rng) => apply(upload, rng);

    /// <summary>Nothing to copy: the same function serves every fork.</summary>
    public IClientDefenseSession Fork() => this;

    public void Dispose()
    {
    }
}
