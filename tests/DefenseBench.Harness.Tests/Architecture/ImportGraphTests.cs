using System.Text;
using System.Text.RegularExpressions;
using DefenseBench.Harness.Tests.Support;
using Xunit.Abstractions;

namespace DefenseBench.Harness.Tests.Architecture;

/// <summary>
/// The folders of src/Harness as a graph: an edge A → B for each file in folder A with a
/// <c>using DefenseBench.Harness.B;</c> line, a qualified <c>DefenseBench.Harness.B.X</c>, or a name qualified from
/// the shared parent namespace, <c>B.X</c> (C# resolves <c>Running.Runner</c> inside DefenseBench.Harness.Plots). The
/// graph must stay acyclic, so each folder can be read, tested and replaced without the ones that import it.
/// Print it with: dotnet test tests/DefenseBench.Harness.Tests --filter "FullyQualifiedName~ImportGraph" --logger "console;verbosity=detailed"
/// </summary>
public sealed partial class ImportGraphTests(ITestOutputHelper output)
{
    [Fact]
    public void Harness_folders_import_each_other_without_a_cycle()
    {
        var graph = HarnessImports();
        output.WriteLine(Describe(graph));
        var cycle = FindCycle(graph);
        Assert.True(cycle == null, $"import cycle in src/Harness: {string.Join(" → ", cycle ?? [])}\n{Describe(graph)}");
    }

    [Fact]
    public void Cycle_finder_finds_a_loop_and_accepts_a_chain()
    {
        var loop = new SortedDictionary<string, SortedSet<string>>
        {
            ["A"] = ["B"], ["B"] = ["C"], ["C"] = ["A"], ["D"] = [],
        };
        Assert.Equal(["A", "B", "C", "A"], FindCycle(loop));
        var chain = new SortedDictionary<string, SortedSet<string>> { ["A"] = ["B"], ["B"] = ["C"], ["C"] = [] };
        Assert.Null(FindCycle(chain));
    }

    [Fact]
    public void Graph_reader_sees_every_folder()
    {
        var graph = HarnessImports();
        foreach (var folder in new[] { "Cli", "Running", "Matrix", "Results", "Plots" }) Assert.Contains(folder, graph.Keys);
        Assert.Contains("Results", graph["Cli"]);
    }

    /// <summary>Folder → folders it imports (files at the project root are the folder "(root)").</summary>
    public static SortedDictionary<string, SortedSet<string>> HarnessImports()
    {
        var root = Repository.File("src", "Harness");
        var graph = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var folders = Directory.EnumerateDirectories(root).Select(Path.GetFileName).OfType<string>()
            .Where(f => f is not ("bin" or "obj")).ToList();
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file);
            var parts = relative.Split(Path.DirectorySeparatorChar);
            if (parts[0] is "bin" or "obj") continue;
            var folder = parts.Length == 1 ? "(root)" : parts[0];
            if (!graph.TryGetValue(folder, out var targets)) graph[folder] = targets = new SortedSet<string>(StringComparer.Ordinal);
            var text = File.ReadAllText(file);
            foreach (Match m in HarnessReference().Matches(text))
                if (m.Groups[1].Value != folder) targets.Add(m.Groups[1].Value);
            foreach (var other in folders)
                if (other != folder && Regex.IsMatch(text, $@"(?<![\w.]){other}\.[A-Z]")) targets.Add(other);
        }
        foreach (var target in graph.Values.SelectMany(t => t).ToList())
            if (!graph.ContainsKey(target)) graph[target] = new SortedSet<string>(StringComparer.Ordinal);
        return graph;
    }

    /// <summary>One line per folder, "A → B, C", in name order.</summary>
    public static string Describe(SortedDictionary<string, SortedSet<string>> graph)
    {
        var text = new StringBuilder();
        foreach (var (folder, targets) in graph)
            text.AppendLine($"{folder} → {(targets.Count == 0 ? "(nothing)" : string.Join(", ", targets))}");
        return text.ToString();
    }

    /// <summary>A path that comes back to its start, or null when the graph is acyclic.</summary>
    public static List<string>? FindCycle(SortedDictionary<string, SortedSet<string>> graph)
    {
        var state = new Dictionary<string, int>(); // 1 on the stack, 2 done
        var stack = new List<string>();
        List<string>? Visit(string node)
        {
            state[node] = 1;
            stack.Add(node);
            foreach (var next in graph.GetValueOrDefault(node) ?? [])
            {
                if (state.GetValueOrDefault(next) == 1) return [.. stack.Skip(stack.IndexOf(next)), next];
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } found) return found;
            }
            stack.RemoveAt(stack.Count - 1);
            state[node] = 2;
            return null;
        }
        foreach (var node in graph.Keys)
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle) return cycle;
        return null;
    }

    // `using DefenseBench.Harness.X;`, `using static DefenseBench.Harness.X.Y;`, aliases, and qualified names in code.
    [GeneratedRegex(@"\bDefenseBench\.Harness\.([A-Z][A-Za-z0-9]*)\b")]
    private static partial Regex HarnessReference();
}
