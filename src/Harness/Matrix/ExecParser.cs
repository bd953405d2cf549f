using System.Text.RegularExpressions;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Defenses.External;
using YamlDotNet.RepresentationModel;

namespace DefenseBench.Harness.Matrix;

/// <summary>
/// Reads a defence written as another program: exec: {command: "python3 prune.py", name: prune, params: {keep: [0.1,
/// 0.5]}, timeout: 60, persistent: off}. A list in params is a sweep, one stage per combination. The command runs in
/// the matrix file's folder, so its paths are checked from there.
/// </summary>
internal sealed partial class ExecParser(ErrorSink errors, ExecPrograms programs)
{
    private static readonly string[] Keys = ["command", "name", "params", "timeout", "persistent"];
    private const string Example = "exec: {command: \"python3 my_defence.py\", name: mine, params: {keep: 0.1}}";

    /// <summary>An attack's keys: no persistent mode (one process per cell), and what of the view it needs.</summary>
    private static readonly string[] AttackKeys = ["command", "name", "needs", "params", "timeout"];
    private const string AttackExample = "exec: {command: \"python3 my_attack.py\", name: mine, needs: [individual-updates]}";

    /// <summary>What an external attack may declare it needs, as the matrix spells it. Auxiliary data is not offered to programs.</summary>
    public static readonly IReadOnlyDictionary<string, AttackNeeds> NeedNames = new Dictionary<string, AttackNeeds>(StringComparer.Ordinal)
    {
        ["individual-updates"] = AttackNeeds.IndividualUpdates,
        ["fc-bias"] = AttackNeeds.FcBias,
        ["known-classes"] = AttackNeeds.KnownClasses,
    };

    /// <summary>The longest time one upload may be given (a day): past it a typo, not a defence.</summary>
    private const double MaxTimeoutSeconds = 86_400;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial Regex PlainName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex ParameterName();

    /// <summary>A word a canonical name can carry: none of the characters that delimit it (",=()>") nor blanks.</summary>
    [GeneratedRegex("^[A-Za-z0-9_.+:/-]+$")]
    private static partial Regex PlainWord();

    private string Folder => Path.GetDirectoryName(Path.GetFullPath(errors.File)) ?? ".";

    /// <summary>A defence's exec entry, one settings per combination of its swept parameters.</summary>
    public List<ExecSettings> Parse(YamlNode node) => Read(node, Keys, Example, "my_defence.py", out _);

    /// <summary>
    /// An attack's exec entry: {command, name, needs: [individual-updates, fc-bias, known-classes], params, timeout},
    /// one settings per combination of its swept parameters, each with what it needs of the view.
    /// </summary>
    public List<(ExecSettings Settings, AttackNeeds Needs)> ParseAttack(YamlNode node)
    {
        var settings = Read(node, AttackKeys, AttackExample, "my_attack.py", out var given);
        var needs = Needs(given.TryGetValue("needs", out var n) ? n.Value : null);
        return needs is { } known ? [.. settings.Select(s => (s, known))] : [];
    }

    private AttackNeeds? Needs(YamlNode? node)
    {
        if (node == null || node.IsNull()) return AttackNeeds.None;
        var needs = AttackNeeds.None;
        bool valid = true;
        foreach (var item in node.Items())
        {
            string? word = item.Scalar();
            if (word != null && NeedNames.TryGetValue(word, out var need))
            {
                needs |= need;
                continue;
            }
            string? near = word == null ? null : Text.Closest(word, NeedNames.Keys);
            errors.Add(item, $"exec needs '{word}' is not something an external attack can be given",
                (near != null ? $"did you mean '{near}'? " : "") + $"write a list of {string.Join(", ", NeedNames.Keys)} (or leave needs out)");
            valid = false;
        }
        return valid ? needs : null;
    }

    private List<ExecSettings> Read(YamlNode node, string[] keys, string example, string script, out Dictionary<string, (YamlNode Key, YamlNode Value)> given)
    {
        given = new Dictionary<string, (YamlNode Key, YamlNode Value)>(StringComparer.Ordinal);
        if (node is not YamlMappingNode map)
        {
            errors.Add(node, "exec takes a map of the program's settings", $"write {example}");
            return [];
        }
        foreach (var (key, keyNode, value) in map.Entries())
        {
            if (!keys.Contains(key))
            {
                string? near = Text.Closest(key, keys);
                errors.Add(keyNode, $"exec has no key '{key}'", (near != null ? $"did you mean '{near}'? " : "") + $"its keys are {string.Join(", ", keys)}");
            }
            else if (!given.TryAdd(key, (keyNode, value)))
            {
                errors.Add(keyNode, $"exec key '{key}' appears twice", "keep one of them");
            }
        }
        int before = errors.Errors.Count;
        string? command = Command(map, given.TryGetValue("command", out var c) ? c.Value : null, script);
        string? name = Name(map, given.TryGetValue("name", out var n) ? n.Value : null);
        var timeout = Timeout(given.TryGetValue("timeout", out var t) ? t.Value : null);
        bool persistent = Persistent(given.TryGetValue("persistent", out var p) ? p.Value : null);
        var sweeps = Parameters(given.TryGetValue("params", out var ps) ? ps.Value : null);
        if (errors.Errors.Count > before || command == null || name == null) return [];
        if (programs.Conflict(name, command, map.Line()) is { } other)
        {
            errors.Add(map, $"exec name '{name}' already names the command `{other.Command}` (line {other.Line})",
                "give each program its own name: the name, not the command, identifies the defence in cells.csv and in cell ids");
            return [];
        }
        return YamlNodes.Product(sweeps).Select(values => new ExecSettings(name, command, Folder, values, timeout, persistent)).ToList();
    }

    private string? Command(YamlNode map, YamlNode? node, string script)
    {
        if (node == null)
        {
            errors.Add(map, "exec has no command", $"add command: \"python3 {script}\" (two file paths are appended; it runs in the matrix file's folder)");
            return null;
        }
        string? command = node.Scalar();
        if (command == null || node.IsNull())
        {
            errors.Add(node, "exec command must be one line of text", $"write command: \"python3 {script}\"");
            return null;
        }
        IReadOnlyList<string> words;
        try
        {
            words = ExecCommand.Split(command);
        }
        catch (ArgumentException e)
        {
            errors.Add(node, $"exec command: {e.Message}", "write the program and its arguments, quoting a word that holds blanks");
            return null;
        }
        foreach (string missing in ExecCommand.MissingPaths(words, Folder))
            errors.Add(node, $"exec command names '{missing}', which does not exist in {Folder}",
                "fix the path: the command runs in the matrix file's folder, so paths are relative to it");
        return command;
    }

    private string? Name(YamlNode map, YamlNode? node)
    {
        if (node == null)
        {
            errors.Add(map, "exec has no name", "add name: my-defence (it starts the canonical name, exec(name=my-defence,...))");
            return null;
        }
        string? name = node.Scalar();
        if (name != null && PlainName().IsMatch(name)) return name;
        errors.Add(node, $"exec name '{name}' is not a plain name", "use letters, digits, '-', '_' and '.'");
        return null;
    }

    private TimeSpan Timeout(YamlNode? node)
    {
        if (node == null) return ExecSettings.DefaultTimeout;
        if (ParameterSpec.TryParseReal(node.Scalar() ?? "", out double seconds) && seconds is > 0 and <= MaxTimeoutSeconds) return TimeSpan.FromSeconds(seconds);
        errors.Add(node, $"exec timeout '{node.Scalar()}' is not a number of seconds in (0, {MaxTimeoutSeconds}]", "write the seconds one upload may take, e.g. timeout: 60");
        return ExecSettings.DefaultTimeout;
    }

    private bool Persistent(YamlNode? node)
    {
        if (node == null) return false;
        var spec = ParameterSpec.Switch("persistent", false, "");
        if (spec.TryParse(node.Scalar() ?? "", out object value) == null) return (bool)value;
        errors.Add(node, $"exec persistent '{node.Scalar()}' is not on or off", "write persistent: on (one process reads IN OUT lines on stdin) or off");
        return false;
    }

    /// <summary>Each parameter's values (one, or a list to sweep), in file order.</summary>
    private List<IReadOnlyList<ExecParameter>> Parameters(YamlNode? node)
    {
        var sweeps = new List<IReadOnlyList<ExecParameter>>();
        if (node == null || node.IsNull()) return sweeps;
        if (node is not YamlMappingNode map)
        {
            errors.Add(node, "exec params must be a map of names to values", "write params: {keep: 0.1} or params: {keep: [0.1, 0.5]}");
            return sweeps;
        }
        foreach (var (name, keyNode, valueNode) in map.Entries())
        {
            if (!ParameterName().IsMatch(name) || name == "name")
            {
                errors.Add(keyNode, name == "name" ? "exec params cannot be called 'name': the canonical name's first entry is the program's name"
                    : $"exec parameter name '{name}' is not a plain name", "use letters, digits and '_', starting with a letter");
                continue;
            }
            if (valueNode is YamlSequenceNode { Children.Count: 0 })
                errors.Add(valueNode, $"exec {name}: the list of values is empty", "write a value, or a list of them");
            var values = new List<ExecParameter>();
            foreach (var item in valueNode.Items())
                if (Value(name, item) is { } value) values.Add(new ExecParameter(name, value));
            sweeps.Add(values);
        }
        return sweeps;
    }

    /// <summary>A number (finite), a switch (true / false, unquoted) or a plain word; quoted text is always a word.</summary>
    private object? Value(string name, YamlNode item)
    {
        string? text = item.Scalar();
        bool quoted = item is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted };
        if (text == null || (!quoted && item.IsNull()))
        {
            errors.Add(item, $"exec {name}: expected a value or a list of values", "write a number, true or false, or a word");
            return null;
        }
        object value = quoted ? text : ExecParameter.Interpret(text);
        if (value is not string) return value;
        if (!quoted && ParameterSpec.TryParseReal(text, out _))
        {
            errors.Add(item, $"exec {name}: {text} is not a finite number", "write a finite number (JSON has no infinity)");
            return null;
        }
        if (PlainWord().IsMatch(text)) return text;
        errors.Add(item, $"exec {name}: '{text}' cannot be spelled in a canonical name", "use letters, digits and _ . + : / - (no blanks, commas, '=', parentheses or '>')");
        return null;
    }
}
