using DefenseBench.Core.Components;

namespace DefenseBench.Core.Federation;

/// <summary>Where a stage of a defence pipeline acts: on every local gradient (DP-SGD), on the finished upload, or on the aggregation.</summary>
public enum StageRole { Gradient, Upload, Aggregation }

/// <summary>
/// One stage of a deployed defence as anyone may know it: its canonical name and role, with typed reads of the
/// parameters it was configured with. Never its random draws or the state it carries (error-feedback residuals).
/// </summary>
public sealed record PublicStage(CanonicalName Name, StageRole Role)
{
    public string Id => Name.Id;

    /// <summary>The text of parameter <paramref name="parameter"/>, or null when the stage has none of that name.</summary>
    public string? Text(string parameter) => Name.Parameters.Where(p => p.Name == parameter).Select(p => p.Value).FirstOrDefault();

    /// <summary>A real parameter ("inf" included), or null when absent or not a number.</summary>
    public double? Real(string parameter) => Text(parameter) is { } text && ParameterSpec.TryParseReal(text, out double value) ? value : null;

    /// <summary>An on/off parameter, or null when absent.</summary>
    public bool? Switch(string parameter) => Text(parameter) switch
    {
        "on" => true,
        "off" => false,
        _ => null,
    };

    public override string ToString() => Name.ToString();
}

/// <summary>
/// The public description of the defence pipeline that produced a server view (README, threat models): a deployed
/// defence's configuration — clip norm, noise scale, keep fraction — is published with the system, so an attacker who
/// knows the defence reads it here. <see cref="None"/> when no defence ran.
/// </summary>
public sealed record PublicDefense(string Canonical, IReadOnlyList<PublicStage> Stages)
{
    public static readonly PublicDefense None = new(CanonicalName.NoStages, []);

    /// <summary>The stages with canonical id <paramref name="id"/>, in pipeline order.</summary>
    public IEnumerable<PublicStage> Named(string id) => Stages.Where(s => s.Id == id);
}
