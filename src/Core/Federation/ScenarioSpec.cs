using DefenseBench.Core.Components;
using System.Globalization;

namespace DefenseBench.Core.Federation;

/// <summary>
/// Training before the attack: plain SGD on the training split, either <see cref="Steps"/> steps on uniformly drawn
/// batches or <see cref="Epochs"/> passes over a shuffled training split (⌈n / batch⌉ steps each), so the decay of
/// leakage with training (docs/attacks.md, what is not claimed; iLRG's epoch and iteration rows) can be measured.
/// </summary>
public sealed record TrainingStage(int Steps, double LearningRate = 0.1, int BatchSize = 32, int Epochs = 0)
{
    public static readonly TrainingStage Untrained = new(0);

    public static TrainingStage ForEpochs(int epochs, double learningRate = 0.1, int batchSize = 32) =>
        epochs == 0 ? Untrained : new TrainingStage(0, learningRate, batchSize, epochs);

    public bool IsUntrained => Steps == 0 && Epochs == 0;

    /// <summary>SGD steps the stage takes on a training split of <paramref name="trainCount"/> images.</summary>
    public int StepsFor(int trainCount) => Epochs > 0 ? Epochs * ((trainCount + BatchSize - 1) / BatchSize) : Steps;

    /// <summary>"untrained", "steps=100,lr=0.1,batch=32" or "epochs=10,lr=0.1,batch=128" (scenario seeds hash it).</summary>
    public string Canonical => IsUntrained
        ? "untrained"
        : string.Create(CultureInfo.InvariantCulture,
            $"{(Epochs > 0 ? $"epochs={Epochs}" : $"steps={Steps}")},lr={ParameterSpec.FormatReal(LearningRate)},batch={BatchSize}");
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
