using DefenseBench.Core.Attacks;
using DefenseBench.Core.Federation;

namespace DefenseBench.Attacks.Common;

/// <summary>
/// A label attack that needs nothing but the last layer: its gradient, and for some the FC weight and bias. It can
/// therefore audit an update captured from another FL system (`defensebench attack NAME --update FILE`), where no
/// model is at hand.
/// </summary>
public abstract class LastLayerAttack : LabelAttack
{
    public sealed override int[] Recover(LastLayer layer, ServerView view, AttackContext context) => Recover(layer);

    /// <summary>Recovered counts per class from the last layer alone.</summary>
    public abstract int[] Recover(LastLayer layer);

    /// <summary>Whether this attack also reads the FC weight and bias (not only their gradients).</summary>
    public virtual bool NeedsFcParameters => false;

    /// <summary>Counts of present classes as 1, absent as 0: the output of an existence-only attack.</summary>
    protected static int[] Indicator(IEnumerable<bool> present) => present.Select(p => p ? 1 : 0).ToArray();
}
