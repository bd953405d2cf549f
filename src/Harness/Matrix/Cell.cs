using System.Security.Cryptography;
using System.Text;
using DefenseBench.Attacks;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Defenses;
using DefenseBench.Defenses.Privacy;
using DefenseBench.Harness.Federation;

namespace DefenseBench.Harness.Matrix;

/// <summary>An attack as a cell names it: canonical id and parameter values.</summary>
public sealed record AttackChoice(string Id, ParameterValues Values)
{
    /// <summary>"repeats=10,aux_per_class=64,estimator=batched", empty for attacks without parameters.</summary>
    public string Parameters => Values.Canonical;

    /// <summary>"llg-plus(repeats=10,...)": identifies the attack's random stream and the cell.</summary>
    public string Canonical => Values.CanonicalName(Id);

    public IAttack Create() => AttackCatalog.All.Get(Id).Create(Values);
}

/// <summary>A defence pipeline as a cell names it: stages in order, each an id with values; empty is "none".</summary>
public sealed record DefenseChoice(IReadOnlyList<(string Id, ParameterValues Values)> Stages)
{
    public static readonly DefenseChoice None = new([]);

    public DefensePipeline Create() => Stages.Count == 0
        ? DefensePipeline.None
        : DefensePipeline.From(Stages.Select(s => DefenseCatalog.All.Get(s.Id).Create(s.Values)).ToArray());

    /// <summary>The CSV's defense column: every stage with every parameter, joined by '>' ("none" when empty).</summary>
    public string Canonical => Create().Canonical;
}

/// <summary>
/// One attack × one defence setting × one scenario, run for each seed; with the FedAvg training that measures the
/// defence's utility (null: none) and the δ at which a DP defence's ε is reported.
/// </summary>
public sealed record Cell(string Block, ScenarioSpec Scenario, AttackChoice Attack, DefenseChoice Defense,
    UtilitySettings? Utility = null, double Delta = RdpAccountant.DefaultDelta)
{
    /// <summary>Stable id: the first 12 hex digits of SHA-256 over the cell's canonical description (computed, so a
    /// `with` copy never carries a stale id).</summary>
    public string Id => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Description)))[..12];

    /// <summary>Utility training and a non-default δ join the description only when present, so older cells keep their ids.</summary>
    public string Description => $"attack={Attack.Canonical}|defense={Defense.Canonical}|{Scenario.Canonical}" +
                                 (Utility == null ? "" : $"|utility={Utility.Canonical}") +
                                 (Delta == RdpAccountant.DefaultDelta ? "" : $"|delta={ParameterSpec.FormatReal(Delta)}");
}
