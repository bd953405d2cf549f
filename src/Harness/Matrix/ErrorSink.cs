using DefenseBench.Core.Components;
using YamlDotNet.RepresentationModel;

namespace DefenseBench.Harness.Matrix;

/// <summary>Collects every validation error of a file, each as FILE:LINE: what is wrong; what to write.</summary>
internal sealed class ErrorSink(string file)
{
    private readonly List<InputException> _errors = [];

    public string File { get; } = file;
    public IReadOnlyList<InputException> Errors => _errors;
    public bool Any => _errors.Count > 0;

    public void Add(YamlNode node, string message, string fix) => _errors.Add(new InputException(message, fix, File, node.Line()));

    public void Add(int line, string message, string fix) => _errors.Add(new InputException(message, fix, File, line));
}
