using System.Globalization;
using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Utility;

/// <summary>
/// The FedAvg training that measures a defence's utility: <see cref="Clients"/> clients share
/// <see cref="TrainImages"/> training images (iid, or Dirichlet(α) label skew when <see cref="DirichletAlpha"/> is
/// set); in each of <see cref="Rounds"/> rounds <see cref="ClientsPerRound"/> of them run <see cref="LocalSteps"/> SGD
/// steps of batch <see cref="BatchSize"/> at rate <see cref="LearningRate"/>; accuracy is measured on
/// <see cref="TestImages"/> test images. The defaults are CI-sized.
/// </summary>
/// <see cref="FixedSize"/>: under a DP defence, draw fixed-size batches (DP-SGD) and exactly m clients (DP-FedAvg)
/// instead of Poisson samples at the accountant's rates; the CSV's privacy column then says ε does not cover it.
public sealed record UtilitySettings(int Clients, int ClientsPerRound, int Rounds, int LocalSteps, double LearningRate, int BatchSize,
    double? DirichletAlpha, int TrainImages, int TestImages, bool FixedSize = false)
{
    /// <summary>The settings a matrix writes under `utility:`; partition (iid | dirichlet(α)) is read on its own.</summary>
    public static readonly IReadOnlyList<ParameterSpec> Parameters =
    [
        ParameterSpec.Integer("clients", 4, "clients N that share the training images", 1, 100_000),
        ParameterSpec.Integer("per_round", 0, "clients m drawn without replacement in each round (0: all N)", 0, 100_000),
        ParameterSpec.Integer("rounds", 5, "FedAvg rounds R", 1, 1_000_000),
        ParameterSpec.Integer("local_steps", 5, "local SGD steps U of each client per round", 1, 100_000),
        ParameterSpec.Real("lr", 0.1, "local SGD learning rate", 0, double.PositiveInfinity, minExclusive: true),
        ParameterSpec.Integer("batch_size", 16, "local batch size B", 1, 65_536),
        ParameterSpec.Integer("train_images", 2000, "training images shared out among the clients, a seeded subset of the train split (0: all)", 0, int.MaxValue),
        ParameterSpec.Choice("sampling", "poisson",
            "under DP-SGD each local batch, under DP-FedAvg each round's clients: poisson, each example (client) in with probability B/n (m/N), what the accountant assumes; fixed, exactly B (m), which epsilon does not cover",
            "poisson", "fixed"),
        ParameterSpec.Integer("test_images", 500, "test images the accuracy is measured on, a seeded subset of the test split (0: all)", 0, int.MaxValue),
    ];

    public static UtilitySettings Default => From(ParameterValues.Create(Parameters), null);

    public static UtilitySettings From(ParameterValues v, double? dirichletAlpha)
    {
        int clients = v.Integer("clients");
        int perRound = v.Integer("per_round");
        return new UtilitySettings(clients, perRound == 0 ? clients : perRound, v.Integer("rounds"), v.Integer("local_steps"), v.Real("lr"),
            v.Integer("batch_size"), dirichletAlpha, v.Integer("train_images"), v.Integer("test_images"), v.Choice("sampling") == "fixed");
    }

    public string Partition => DirichletAlpha is { } a ? $"dirichlet({ParameterSpec.FormatReal(a)})" : "iid";

    /// <summary>
    /// Every setting spelled out, e.g. "clients=4,per_round=4,rounds=6,...,partition=iid": part of the cell's identity and
    /// of the training's seed. Sampling appears only when fixed, so settings written before the key existed keep their
    /// cells' ids and draw the same data (Poisson sampling is the default and changes only DP trainings).
    /// </summary>
    public string Canonical => string.Create(CultureInfo.InvariantCulture,
        $"clients={Clients},per_round={ClientsPerRound},rounds={Rounds},local_steps={LocalSteps},lr={ParameterSpec.FormatReal(LearningRate)}," +
        $"batch_size={BatchSize},partition={Partition},train_images={TrainImages},test_images={TestImages}{(FixedSize ? ",sampling=fixed" : "")}");
}
