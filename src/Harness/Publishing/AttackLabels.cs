using DefenseBench.Attacks;
using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Publishing;

/// <summary>
/// Short column names for a board's attacks ("LLG+ adaptive" for "llg-plus(repeats=10,...,adaptive=on)"), each
/// distinct on its board, with the full canonical name in the legend under the table (README, publishing a leaderboard).
/// </summary>
public static class AttackLabels
{
    /// <summary>A label longer than this names its variant by a letter ("LLG+ a") rather than its parameters.</summary>
    private const int MaxLength = 24;

    /// <summary>
    /// A label per attack key of a board: the catalog's short name (the id for an attack the catalog does not know),
    /// then, where several keys share it, the parameters that differ among them (the `adaptive` parameter aside), and
    /// "adaptive" when the attacker knew the defence. Labels still shared after that get letters a, b, ... in key order.
    /// </summary>
    public static IReadOnlyDictionary<string, string> For(IReadOnlyList<string> attackKeys)
    {
        var names = attackKeys.Distinct(StringComparer.Ordinal).Select(k => (Key: k, Name: CanonicalName.Parse(k))).ToList();
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var group in names.GroupBy(n => ShortName(n.Name.Id), StringComparer.Ordinal))
        {
            var variants = group.ToList();
            foreach (var (key, name) in variants)
            {
                var differing = name.Parameters.Where(p => p.Name != Adaptive && variants.Any(v => Value(v.Name, p.Name) != p.Value)).Select(p => $"{p.Name}={p.Value}");
                string label = string.Join(' ', [group.Key, .. differing]);
                labels[key] = (label.Length > MaxLength ? group.Key : label) + (Value(name, Adaptive) == "on" ? " adaptive" : "");
            }
        }
        foreach (var shared in attackKeys.Distinct(StringComparer.Ordinal).GroupBy(k => labels[k], StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            int i = 0;
            foreach (string key in shared.ToList()) labels[key] = $"{shared.Key} {Letter(i++)}";
        }
        return labels;
    }

    private const string Adaptive = "adaptive";

    /// <summary>a, b, ..., z, then 27, 28, ...</summary>
    private static string Letter(int i) => i < 26 ? ((char)('a' + i)).ToString() : (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string ShortName(string id) => AttackCatalog.All.TryGetTraits(id, out var traits) && traits.ShortName is { } name ? name : id;

    private static string? Value(CanonicalName name, string parameter) => name.Parameters.FirstOrDefault(p => p.Name == parameter).Value;
}
