namespace DefenseBench.Core.Defenses;

/// <summary>Whose presence a DP guarantee hides: one training example (DP-SGD) or one client's whole data (DP-FedAvg).</summary>
public enum PrivacyUnit { Example, Client }

/// <summary>
/// <see cref="Steps"/> runs of the sampled Gaussian mechanism with sampling rate q and noise multiplier
/// z = noise std ÷ L2 sensitivity (docs/defences.md, the accountant); the accountant's input.
/// </summary>
public sealed record GaussianPhase(double SampleRate, double NoiseMultiplier, long Steps);

/// <summary>
/// The federated training a privacy guarantee is stated for: <see cref="Clients"/> clients of which
/// <see cref="ClientsPerRound"/> take part in each of <see cref="Rounds"/> rounds, each running
/// <see cref="LocalSteps"/> steps on batches of <see cref="BatchSize"/> drawn from its
/// <see cref="ExamplesPerClient"/> examples (the smallest client's count: the largest sampling rate), uploading
/// <see cref="UpdateTensors"/> tensors.
/// <see cref="UsesPerExample"/>: null when each local batch is sampled from the client's examples at rate
/// B / n (what the accountant's subsampled Gaussian assumes); otherwise the batches are a fixed schedule, nothing is
/// sampled, and the most-used example enters that many steps of a round (1 when U steps walk disjoint batches, U when
/// every step reuses one batch): k Gaussian mechanisms at q = 1, composed (docs/defences.md).
/// </summary>
/// <see cref="FixedSize"/>: batches (and clients) were drawn in fixed numbers where the accountant assumes Poisson
/// sampling, so ε is what Poisson sampling would give, not a guarantee of the run.
public sealed record TrainingShape(int Clients, int ClientsPerRound, int Rounds, int LocalSteps, int BatchSize, int ExamplesPerClient, int UpdateTensors,
    int? UsesPerExample = null, bool FixedSize = false);

/// <summary>A defence with a differential-privacy guarantee that an accountant can state as ε at δ.</summary>
public interface IPrivateDefense : IDefense
{
    PrivacyUnit Unit { get; }

    /// <summary>The Gaussian-mechanism phases the defence runs during <paramref name="run"/>.</summary>
    IReadOnlyList<GaussianPhase> Phases(TrainingShape run);
}
