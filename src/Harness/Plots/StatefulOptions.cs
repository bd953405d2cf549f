using System.Text.RegularExpressions;
using DefenseBench.Defenses;

namespace DefenseBench.Harness.Plots;

/// <summary>
/// Defence options whose effect lives in state a client carries from round to round (top-k's error feedback). A cell
/// attacks one upload with its defence sessions opened fresh, so that state is empty there: a setting that differs
/// from another only in such options sends the same upload and leaks the same (docs/defences.md). The leaderboard and
/// the plots say so instead of ranking it as a distinct defence; its utility, measured over many rounds, still differs.
/// </summary>
public static partial class StatefulOptions
{
    /// <summary>
    /// (stage id, parameter, the value with no state): the options whose other values keep state across rounds, as the
    /// defences' catalog entries declare them.
    /// </summary>
    public static readonly IReadOnlyList<(string Stage, string Parameter, string Stateless)> All =
    [
        .. DefenseCatalog.All.All.SelectMany(d => DefenseCatalog.All.TraitsOf(d.Id).StatefulOptions.Select(o => (d.Id, o.Parameter, o.Stateless))),
    ];

    /// <summary>The canonical name with every stateful option set to its stateless value (the same string when none is set).</summary>
    public static string Stateless(string canonical)
    {
        foreach (var (stage, parameter, stateless) in All)
            canonical = Regex.Replace(canonical, $@"(?<=(^|>){Regex.Escape(stage)}\([^)]*\b{Regex.Escape(parameter)}=)[^,)]+", stateless);
        return canonical;
    }

    /// <summary>Whether (stage, parameter) is a stateful option and <paramref name="value"/> keeps state.</summary>
    public static bool KeepsState(string stage, string parameter, string? value) =>
        All.Any(o => o.Stage == stage && o.Parameter == parameter && value != null && value != o.Stateless);

    /// <summary>
    /// Why <paramref name="canonical"/> is no distinct defence in a single-round cell: it differs from
    /// <paramref name="twin"/>, also measured, only in stateful options; null when it has none set or no such twin was run.
    /// </summary>
    public static string? SameUploadAs(string canonical, IReadOnlyCollection<string> measured)
    {
        string twin = Stateless(canonical);
        return twin == canonical || !measured.Contains(twin) ? null
            : $"leaks as {twin}: it differs only in state carried across rounds (error feedback), which is empty when one round's upload is attacked";
    }
}
