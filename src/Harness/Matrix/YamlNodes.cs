using YamlDotNet.RepresentationModel;

namespace DefenseBench.Harness.Matrix;

/// <summary>Small helpers over YamlDotNet's representation model: lines, scalars, and "a list is a sweep".</summary>
internal static class YamlNodes
{
    public static int Line(this YamlNode node) => (int)node.Start.Line;

    /// <summary>A sequence's items, or the node itself: every key accepts one value or a list of values to sweep.</summary>
    public static IReadOnlyList<YamlNode> Items(this YamlNode node) =>
        node is YamlSequenceNode seq ? seq.Children.ToArray() : [node];

    public static string? Scalar(this YamlNode node) => node is YamlScalarNode s ? s.Value : null;

    public static bool IsNull(this YamlNode node) =>
        node is YamlScalarNode { Style: not YamlDotNet.Core.ScalarStyle.SingleQuoted and not YamlDotNet.Core.ScalarStyle.DoubleQuoted } s
        && (string.IsNullOrEmpty(s.Value) || s.Value is "~" or "null");

    /// <summary>The mapping's entries with string keys, in file order.</summary>
    public static IEnumerable<(string Key, YamlNode KeyNode, YamlNode Value)> Entries(this YamlMappingNode map) =>
        map.Children.Select(kv => (kv.Key.Scalar() ?? "", kv.Key, kv.Value));

    /// <summary>The cartesian product of several lists, the first list varying slowest.</summary>
    public static IEnumerable<T[]> Product<T>(IReadOnlyList<IReadOnlyList<T>> lists)
    {
        if (lists.Count == 0)
        {
            yield return [];
            yield break;
        }
        foreach (var head in lists[0])
            foreach (var tail in Product(lists.Skip(1).ToArray()))
                yield return [head, .. tail];
    }
}
