using DefenseBench.Core.Components;
using System.Globalization;

namespace DefenseBench.Core.Federation;

/// <summary>Training before the attack: <see cref="Steps"/> SGD steps on batches of other training data.</summary>
public sealed record TrainingStage(int Steps, double LearningRate = 0.1, int BatchSize = 32)
{
    public static readonly TrainingStage Untrained = new(0);

    public string Canonical => Steps == 0
        ? "untrained"
        : string.Create(CultureInfo.InvariantCulture, $"steps={Steps},lr={ParameterSpec.FormatReal(LearningRate)},batch={BatchSize}");
}

/// <summary>Whether clients compute updates in train mode (dropout, batch statistics) or eval mode (iLRG's setting).</summary>
public enum ModelMode { Train, Eval }

/// <summary>
/// Everything about the victims that a cell fixes: dataset, model, training stage, batch size, label distribution,
/// number of clients and protocol. Its canonical text seeds the victims' data and model, so every attack and defence
/// of the same scenario and seed sees the same private batches.
/// </summary>
public sealed record ScenarioSpec(
    string Dataset,
    int NumClasses,
    string Model,
    int BatchSize,
    LabelDistribution Labels,
    int Clients,
    Protocol Protocol,
    TrainingStage Stage,
    ModelMode Mode = ModelMode.Train)
{
    public string Canonical => string.Create(CultureInfo.InvariantCulture,
        $"dataset={Dataset};classes={NumClasses};model={Model};batch={BatchSize};labels={Labels.Canonical()};clients={Clients};" +
        $"protocol={Protocol.Canonical};stage={Stage.Canonical};mode={(Mode == ModelMode.Train ? "train" : "eval")}");

    /// <summary>Labels processed by one client: B per local step.</summary>
    public int LabelsPerClient => BatchSize * Protocol.Steps;
}
