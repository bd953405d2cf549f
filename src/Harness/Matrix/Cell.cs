using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using DefenseBench.Attacks;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Defenses;
using DefenseBench.Defenses.External;
using DefenseBench.Defenses.Privacy;
using DefenseBench.Harness.Utility;

namespace DefenseBench.Harness.Matrix;

/// <summary>
/// An attack as a cell names it: canonical id and parameter values, or, for an attack run by another program (the
/// matrix's exec entry), id "exec" with the program's settings and what it declared it needs of the view.
/// </summary>
public sealed record AttackChoice(string Id, ParameterValues Values)
{
    /// <summary>The program of an external attack; null for a catalog attack.</summary>
    public ExecSettings? Exec { get; init; }

    /// <summary>What an external attack declared it needs (the matrix's `needs`); catalog attacks declare theirs in code.</summary>
    public AttackNeeds ExecNeeds { get; init; }

    /// <summary>An external attack: the attack column says exec, its parameters "name=rowsum,...".</summary>
    public static AttackChoice External(ExecSettings settings, AttackNeeds needs) =>
        new(ExecSettings.Id, ParameterValues.Create([])) { Exec = settings, ExecNeeds = needs };

    /// <summary>"repeats=10,aux_per_class=64,estimator=batched", empty for attacks without parameters; "name=rowsum,..." for exec.</summary>
    public string Parameters => Exec?.CanonicalParameters ?? Values.Canonical;

    /// <summary>"llg-plus(repeats=10,...)" or "exec(name=rowsum,...)": identifies the cell.</summary>
    public string Canonical => Exec?.Canonical ?? Values.CanonicalName(Id);

    /// <summary>Its forward passes per class relative to one sample (the sharding cost model); a program's is unknown, taken as one.</summary>
    public double CostWeight => Exec != null ? 1 : AttackCatalog.All.TraitsOf(Id).CostWeight;

    /// <summary>
    /// The name of the attack's random stream: <see cref="Canonical"/> without the `adaptive` parameter, so an attack
    /// with and without knowledge of the defence draws the same auxiliary data and dummies (a paired comparison), and
    /// the non-adaptive attack draws what the attack drew before it had the parameter.
    /// </summary>
    public string Stream => Exec?.Canonical ?? new CanonicalName(Id, Values.Formatted.Where(p => p.Name != "adaptive").ToArray()).ToString();

    public IAttack Create() => Exec != null ? new ExecAttack(Exec, ExecNeeds) : AttackCatalog.All.Get(Id).Create(Values);
}

/// <summary>One stage of a defence pipeline as a cell names it: its canonical name and how to make it.</summary>
public abstract record DefenseStage
{
    public abstract string Canonical { get; }

    public abstract IDefense Create();
}

/// <summary>A defence of the catalog: canonical id and parameter values.</summary>
public sealed record CatalogStage(string Id, ParameterValues Values) : DefenseStage
{
    public override string Canonical => Values.CanonicalName(Id);

    public override IDefense Create() => DefenseCatalog.All.Get(Id).Create(Values);
}

/// <summary>A defence run by another program (the matrix's exec entry): its settings, whose name and parameters make the canonical name.</summary>
public sealed record ExecStage(ExecSettings Settings) : DefenseStage
{
    public override string Canonical => Settings.Canonical;

    public override IDefense Create() => new ExecDefense(Settings);
}

/// <summary>A defence pipeline as a cell names it: stages in order, each a catalog defence or an external program; empty is "none".</summary>
public sealed record DefenseChoice(IReadOnlyList<DefenseStage> Stages)
{
    public static readonly DefenseChoice None = new(Array.Empty<DefenseStage>());

    /// <summary>A pipeline of catalog defences, each an id with values.</summary>
    public DefenseChoice(IReadOnlyList<(string Id, ParameterValues Values)> stages) : this(stages.Select(s => (DefenseStage)new CatalogStage(s.Id, s.Values)).ToArray())
    {
    }

    public DefensePipeline Create() => Stages.Count == 0
        ? DefensePipeline.None
        : DefensePipeline.From(Stages.Select(s => s.Create()).ToArray());

    /// <summary>
    /// The CSV's defense column: every stage with every parameter, joined by '>' ("none" when empty), written from
    /// the parameter values the stages are created with, once per instance (a `with` copy gets its own). The pipeline
    /// is not built for it; the matrix parser has built it once to validate the stages.
    /// </summary>
    public string Canonical => Canonicals.GetValue(this, choice => CanonicalName.Pipeline(choice.Stages.Select(s => s.Canonical)));

    /// <summary>The stages that run another program, for the manifest's record of which code ran.</summary>
    public IEnumerable<ExecSettings> ExecStages => Stages.OfType<ExecStage>().Select(s => s.Settings);

    private static readonly ConditionalWeakTable<DefenseChoice, string> Canonicals = new();
}

/// <summary>
/// One attack × one defence setting × one scenario, run for each seed; with the FedAvg training that measures the
/// defence's utility (null: none), the δ at which a DP defence's ε is reported, and the round whose uploads are
/// attacked: 0, the scenario's model as its stage left it with fresh defence state; R > 0, round R + 1 of a federated
/// training of the scenario's clients under the defence (the matrix key `round`; README, attacking mid-training).
/// </summary>
public sealed record Cell(string Block, ScenarioSpec Scenario, AttackChoice Attack, DefenseChoice Defense,
    UtilitySettings? Utility = null, double Delta = RdpAccountant.DefaultDelta, int Round = 0)
{
    /// <summary>Stable id: the first 12 hex digits of SHA-256 over the cell's canonical description. Computed once per
    /// instance and kept beside it, not in it: a `with` copy is a new instance with its own id, and equality is untouched.</summary>
    public string Id => Ids.GetValue(this, cell => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(cell.Description)))[..12]);

    private static readonly ConditionalWeakTable<Cell, string> Ids = new();

    /// <summary>
    /// Utility training, a non-default δ and a round after 0 join the description only when present, so older cells
    /// (and round-0 cells) keep their ids.
    /// </summary>
    public string Description => $"attack={Attack.Canonical}|defense={Defense.Canonical}|{Scenario.Canonical}" +
                                 (Utility == null ? "" : $"|utility={Utility.Canonical}") +
                                 (Delta == RdpAccountant.DefaultDelta ? "" : $"|delta={ParameterSpec.FormatReal(Delta)}") +
                                 (Round == 0 ? "" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"|round={Round}"));
}
