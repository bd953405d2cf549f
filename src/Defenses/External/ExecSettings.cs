using System.Globalization;
using System.Text.Json;
using DefenseBench.Core.Components;

namespace DefenseBench.Defenses.External;

/// <summary>
/// One parameter an external defence is given: a finite number, a switch (true / false) or a plain word. The value is
/// a .NET double, bool or string; <see cref="Text"/> is how the canonical name spells it.
/// </summary>
public sealed record ExecParameter(string Name, object Value)
{
    public string Text => Value switch
    {
        double d => ParameterSpec.FormatReal(d),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(Value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>An unquoted value as written: a finite number, true or false, else the text itself.</summary>
    public static object Interpret(string text) =>
        ParameterSpec.TryParseReal(text, out double number) && double.IsFinite(number) ? number
        : text is "true" or "false" ? text == "true"
        : text;

    internal void WriteTo(Utf8JsonWriter json)
    {
        switch (Value)
        {
            case double d: json.WriteNumber(Name, d); break;
            case bool b: json.WriteBoolean(Name, b); break;
            default: json.WriteString(Name, Text); break;
        }
    }
}

/// <summary>
/// A defence run by another program (the matrix's `exec` entry, docs/defences.md): the command line, run in
/// <see cref="Folder"/> (the matrix file's folder) with the upload's file and the answer's file appended; the name and
/// parameters that make its canonical name; the time one upload may take; and whether one process serves every upload
/// of a set of sessions (persistent: paths on stdin, one answer line each) or each upload starts the command anew.
/// </summary>
public sealed record ExecSettings(string Name, string Command, string Folder, IReadOnlyList<ExecParameter> Parameters, TimeSpan Timeout, bool Persistent)
{
    /// <summary>The id of every external defence; its canonical name carries the program's own name first.</summary>
    public const string Id = "exec";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>"exec(name=prune,keep=0.1)": the name, then the parameters by name, so their order in the file does not matter.</summary>
    public string Canonical => new CanonicalName(Id, Pairs).ToString();

    /// <summary>"name=prune,keep=0.1": the canonical name's parameters, as an attack's row carries them in attack_params.</summary>
    public string CanonicalParameters => string.Join(",", Pairs.Select(p => $"{p.Name}={p.Value}"));

    private (string Name, string Value)[] Pairs => [("name", Name), .. Parameters.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => (p.Name, p.Text))];

    /// <summary>The parameters as the JSON object the program reads from the upload's metadata.</summary>
    public string ParametersJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var p in Parameters) p.WriteTo(json);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
