using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace DefenseBench.Harness.Tests.Deploy;

/// <summary>
/// The parts of a Kubernetes Job manifest that decide what its pods run: completion mode and count, and the first
/// container's args, environment and volume mounts, with Kubernetes' $(VAR) expansion of args.
/// </summary>
public sealed partial record KubernetesJob(string? CompletionMode, int Completions, IReadOnlyList<string> Args,
    IReadOnlyDictionary<string, string> Environment, IReadOnlyList<string> MountPaths)
{
    public static KubernetesJob Load(string path)
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(path)) yaml.Load(reader);
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        Assert.Equal("Job", Scalar(root, "kind"));
        var spec = Map(root, "spec");
        var container = (YamlMappingNode)((YamlSequenceNode)Map(Map(spec, "template"), "spec")["containers"]).Children[0];
        var env = container.Children.TryGetValue("env", out var e)
            ? ((YamlSequenceNode)e).Children.Cast<YamlMappingNode>().ToDictionary(v => Scalar(v, "name"), v => Scalar(v, "value"))
            : new Dictionary<string, string>();
        var mounts = container.Children.TryGetValue("volumeMounts", out var m)
            ? ((YamlSequenceNode)m).Children.Cast<YamlMappingNode>().Select(v => Scalar(v, "mountPath")).ToArray()
            : [];
        return new KubernetesJob(
            spec.Children.TryGetValue("completionMode", out var mode) ? ((YamlScalarNode)mode).Value : null,
            spec.Children.TryGetValue("completions", out var n) ? int.Parse(((YamlScalarNode)n).Value!, System.Globalization.CultureInfo.InvariantCulture) : 1,
            ((YamlSequenceNode)container["args"]).Children.Select(a => ((YamlScalarNode)a).Value!).ToArray(),
            env, mounts);
    }

    /// <summary>The args a pod runs: $(NAME) replaced by the container's variable (plus <paramref name="injected"/>), as the kubelet does.</summary>
    public IReadOnlyList<string> ArgsFor(IReadOnlyDictionary<string, string> injected)
    {
        var all = new Dictionary<string, string>(Environment);
        foreach (var (k, v) in injected) all[k] = v;
        return Args.Select(a => Reference().Replace(a, match =>
            all.TryGetValue(match.Groups[1].Value, out string? value) ? value : match.Value)).ToArray();
    }

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex Reference();

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node[key];

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node[key]).Value!;
}
