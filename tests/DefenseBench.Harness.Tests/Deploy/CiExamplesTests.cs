using System.Text;
using System.Text.RegularExpressions;
using DefenseBench.Harness.Cli;
using DefenseBench.Harness.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace DefenseBench.Harness.Tests.Deploy;

/// <summary>What a CI example runs and publishes: its shell lines with its variables, the JUnit file it publishes, the folder it uploads.</summary>
public sealed record CiExample(string File, IReadOnlyList<string> Shell, IReadOnlyDictionary<string, string> Variables, string Junit, string Artefact);

/// <summary>
/// The CI examples of docs/ci (README: Verify in CI) as a defence's repository copies them: each parses as YAML, every
/// harness command it runs (`dotnet run --project src/Harness -- ...`) parses without error under the harness's own
/// command tree, so it names a command the CLI has and only options that command takes, and the files verify writes
/// are the ones the example publishes.
/// </summary>
public sealed partial class CiExamplesTests
{
    private static YamlMappingNode Load(string path)
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(path)) yaml.Load(reader);
        return (YamlMappingNode)Assert.Single(yaml.Documents).RootNode;
    }

    private static YamlMappingNode Map(YamlNode node, string key) => (YamlMappingNode)((YamlMappingNode)node)[key];

    private static string Scalar(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node)[key]).Value!;

    private static Dictionary<string, string> Variables(YamlNode node, string key) =>
        ((YamlMappingNode)node).Children.TryGetValue(key, out var map)
            ? ((YamlMappingNode)map).Children.ToDictionary(e => ((YamlScalarNode)e.Key).Value!, e => ((YamlScalarNode)e.Value).Value!)
            : [];

    private static CiExample GitHub()
    {
        string file = Repository.File("docs", "ci", "github-actions.yml");
        var root = Load(file);
        var job = (YamlMappingNode)Assert.Single(Map(root, "jobs").Children).Value;
        var variables = Variables(root, "env");
        foreach (var (k, v) in Variables(job, "env")) variables[k] = v;
        var steps = ((YamlSequenceNode)job["steps"]).Children.Cast<YamlMappingNode>().ToArray();
        YamlMappingNode Uses(string action) => Assert.Single(steps, s => s.Children.TryGetValue("uses", out var u) && ((YamlScalarNode)u).Value!.StartsWith(action + "@", StringComparison.Ordinal));
        return new CiExample(file,
            steps.Where(s => s.Children.ContainsKey("run")).Select(s => Scalar(s, "run")).ToArray(), variables,
            Scalar(Uses("mikepenz/action-junit-report")["with"], "report_paths"), Scalar(Uses("actions/upload-artifact")["with"], "path"));
    }

    private static CiExample GitLab()
    {
        string file = Repository.File("docs", "ci", "gitlab-ci.yml");
        var job = Assert.Single(Load(file).Children, e => e.Value is YamlMappingNode m && m.Children.ContainsKey("script")).Value;
        var artifacts = Map(job, "artifacts");
        Assert.Equal("always", Scalar(artifacts, "when"));
        var shell = new[] { "before_script", "script", "after_script" }
            .Where(k => ((YamlMappingNode)job).Children.ContainsKey(k))
            .SelectMany(k => ((YamlSequenceNode)job[k]).Children.Select(l => ((YamlScalarNode)l).Value!)).ToArray();
        return new CiExample(file, shell, Variables(job, "variables"), Scalar(artifacts["reports"], "junit"),
            ((YamlScalarNode)Assert.Single(((YamlSequenceNode)artifacts["paths"]).Children)).Value!);
    }

    public static TheoryData<string> Examples() => ["github", "gitlab"];

    private static CiExample Example(string name) => name == "github" ? GitHub() : GitLab();

    [GeneratedRegex(@"\$\{\{\s*env\.(\w+)\s*\}\}|\$\{(\w+)\}|\$(\w+)")]
    private static partial Regex Reference();

    /// <summary>A shell line's words with the example's variables expanded and quotes removed; operators (|| && ; | &gt;&gt; &gt;) are words of their own.</summary>
    private static List<string> Words(string line, IReadOnlyDictionary<string, string> variables)
    {
        line = Reference().Replace(line, m =>
        {
            string name = m.Groups.Cast<Group>().Skip(1).First(g => g.Success).Value;
            return variables.TryGetValue(name, out string? value) ? value : m.Value;
        });
        var words = new List<string>();
        var word = new StringBuilder();
        char quote = '\0';
        void End()
        {
            if (word.Length > 0) words.Add(word.ToString());
            word.Clear();
        }
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else word.Append(c);
            }
            else if (c is '"' or '\'') quote = c;
            else if (char.IsWhiteSpace(c)) End();
            else if (c is '|' or '&' or ';' or '>')
            {
                End();
                words.Add(i + 1 < line.Length && line[i + 1] == c && c != ';' ? $"{c}{line[++i]}" : $"{c}");
            }
            else word.Append(c);
        }
        Assert.True(quote == '\0', $"unclosed quote in: {line}");
        End();
        return words;
    }

    private static readonly HashSet<string> Operators = ["||", "&&", ";", "|", ">", ">>", "&"];

    /// <summary>Every harness command line the example runs: the words after `dotnet run --project src/Harness ... --`, or after a `defensebench` executable, up to a shell operator.</summary>
    private static List<string[]> HarnessCommands(CiExample example)
    {
        var commands = new List<string[]>();
        foreach (string line in example.Shell.SelectMany(s => s.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n')))
        {
            var words = Words(line, example.Variables);
            for (int i = 0; i < words.Count; i++)
            {
                int start;
                if (words[i] == "dotnet" && i + 1 < words.Count && words[i + 1] == "run")
                {
                    int end = words.FindIndex(i, w => Operators.Contains(w)) is var e and >= 0 ? e : words.Count;
                    var options = words.GetRange(i, end - i);
                    Assert.Equal("src/Harness", options[options.IndexOf("--project") + 1]);
                    Assert.True(Directory.Exists(Repository.File("src", "Harness")));
                    start = options.IndexOf("--") + i + 1;
                    Assert.True(start > i, $"{example.File}: `dotnet run` without `--` before the harness's command: {line}");
                }
                else if (words[i] == "defensebench" || words[i].EndsWith("/defensebench.dll", StringComparison.Ordinal)) start = i + 1;
                else continue;
                int stop = words.FindIndex(start, w => Operators.Contains(w)) is var s and >= 0 ? s : words.Count;
                commands.Add([.. words.GetRange(start, stop - start)]);
                i = stop;
            }
        }
        return commands;
    }

    private static string Value(string[] command, string option)
    {
        int at = Array.IndexOf(command, option);
        Assert.True(at >= 0 && at + 1 < command.Length, $"`{string.Join(' ', command)}` lacks {option}");
        return command[at + 1];
    }

    private static string Trimmed(string path) => path.TrimEnd('/');

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_harness_command_of_the_example_is_one_the_command_line_has_with_options_it_takes(string name)
    {
        var example = Example(name);

        var commands = HarnessCommands(example);

        Assert.NotEmpty(commands);
        foreach (var command in commands)
        {
            var root = CommandLine.Root(TextWriter.Null, TextWriter.Null, command);
            var parse = root.Parse(command);
            Assert.True(parse.Errors.Count == 0,
                $"{example.File}: `{string.Join(' ', command)}`: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
            Assert.Contains(root.Subcommands, c => c.Name == parse.CommandResult.Command.Name);
        }
        Assert.Equal(["run", "verify"], commands.Select(c => c[0]));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void The_example_verifies_its_run_of_a_matrix_of_the_repository_and_publishes_the_reports_verify_writes(string name)
    {
        var example = Example(name);

        var commands = HarnessCommands(example);

        string[] run = Assert.Single(commands, c => c[0] == "run"), verify = Assert.Single(commands, c => c[0] == "verify");
        Assert.True(File.Exists(Repository.File(run[1].Split('/'))), $"{example.File} runs {run[1]}, which is not in the repository");
        Assert.Equal(run[1], verify[1]);
        Assert.Equal(Value(run, "--out"), Value(verify, "--results"));
        Assert.Equal(Trimmed(Value(verify, "--results")), Trimmed(example.Artefact));
        Assert.Equal(Value(verify, "--junit"), example.Junit);
        Assert.StartsWith(Trimmed(example.Artefact) + "/", Value(verify, "--markdown"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_github_workflow_appends_the_markdown_report_to_the_job_summary_even_when_verify_fails()
    {
        var example = GitHub();
        string markdown = Value(Assert.Single(HarnessCommands(example), c => c[0] == "verify"), "--markdown");

        var summary = Assert.Single(example.Shell, s => s.Contains("GITHUB_STEP_SUMMARY", StringComparison.Ordinal));
        var words = Words(summary, example.Variables);

        Assert.Equal(markdown, words[words.IndexOf(">>") - 1]);
        Assert.Equal("$GITHUB_STEP_SUMMARY", words[words.IndexOf(">>") + 1]);
        var steps = ((YamlSequenceNode)((YamlMappingNode)Assert.Single(Map(Load(example.File), "jobs").Children).Value)["steps"]).Children.Cast<YamlMappingNode>();
        var publishing = steps.Where(s => s.Children.TryGetValue("run", out var r) && ((YamlScalarNode)r).Value == summary
                                          || s.Children.TryGetValue("uses", out var u) && !((YamlScalarNode)u).Value!.StartsWith("actions/checkout", StringComparison.Ordinal)
                                          && !((YamlScalarNode)u).Value!.StartsWith("actions/setup-dotnet", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, publishing.Length);
        Assert.All(publishing, s => Assert.Contains("!cancelled()", Scalar(s, "if"), StringComparison.Ordinal));
    }
    [Theory]
    [MemberData(nameof(Examples))]
    public void The_examples_install_python_with_numpy_before_the_matrix_runs_its_exec_programs(string name)
    {
        var example = Example(name);
        var lines = example.Shell.ToList();
        int install = lines.FindIndex(l => Words(l, example.Variables).Contains("python3-numpy"));
        int run = lines.FindIndex(l => HarnessCommands(new CiExample(example.File, [l], example.Variables, example.Junit, example.Artefact)).Any(c => c[0] == "run"));

        Assert.True(install >= 0, $"{example.File} installs no python3-numpy, which the exec examples import");
        Assert.True(install < run, $"{example.File} installs python3-numpy after it runs the matrix");
    }

    [Fact]
    public void The_image_carries_python_with_numpy_and_the_example_programs()
    {
        string dockerfile = File.ReadAllText(Repository.File("deploy", "Dockerfile"));
        string runtime = dockerfile[dockerfile.LastIndexOf("\nFROM ", StringComparison.Ordinal)..];

        Assert.Contains("python3-numpy", runtime, StringComparison.Ordinal);
        Assert.Contains("COPY examples ./examples", runtime, StringComparison.Ordinal);
        Assert.True(runtime.IndexOf("python3-numpy", StringComparison.Ordinal) < runtime.IndexOf("USER ", StringComparison.Ordinal),
            "the image must install Python before it drops to the non-root user");
    }
}
