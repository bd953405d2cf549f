using System.Diagnostics;
using System.Globalization;
using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Training;

/// <summary>
/// A scenario's federation after <see cref="Round"/> rounds of FedAvg under one defence, for attacks at a later round
/// (the matrix key `round`): the global model and every client's defence sessions (error-feedback residuals), as the
/// utility training keeps them (<see cref="FederatedRound"/>). In training round t the scenario's clients each draw
/// fresh batches from their own label distribution (<see cref="VictimRound.TrainingRound"/>), upload by the
/// scenario's protocol through their sessions, and the server aggregates and steps; all of them take part in every
/// round. The attack of a round-R cell then reads round R + 1: the victims' private batches on the round-R model,
/// defended by forks of the round-R sessions. <see cref="AdvanceTo"/> continues the same training, so a sweep over
/// rounds trains once up to its largest round; the defence's randomness in training is one stream of its own, so
/// round R is the same whether it was reached directly or through earlier rounds.
/// </summary>
public sealed class TrainedRound : IDisposable
{
    /// <summary>
    /// The server's learning rate for FedSGD aggregates (gradients); a FedAvg aggregate (a weight delta) is applied
    /// whole. 0.1, the harness's default learning rate everywhere (stage, fedavg, utility).
    /// </summary>
    public const double FedSgdServerRate = 0.1;

    private readonly VictimRound _victims;
    private readonly DefensePipeline _pipeline;
    private readonly Classifier _model;
    private readonly Tensor[] _parameters;
    private readonly IReadOnlyList<string> _names;
    private readonly PipelineSessions _sessions;
    private readonly Rng _defenseRng;
    private readonly LocalGradient? _gradient;

    private TrainedRound(VictimRound victims, DefensePipeline pipeline, Classifier model)
    {
        _victims = victims;
        _pipeline = pipeline;
        _model = model;
        _parameters = model.parameters().ToArray();
        _names = model.ParameterNames;
        _sessions = pipeline.OpenSessions(victims.Clients.Count);
        _defenseRng = Rng.For(victims.Seed, "training", pipeline.Canonical);
        _gradient = pipeline.LocalGradient(_defenseRng);
    }

    /// <summary>Rounds trained so far (0: the model of the scenario's stage, sessions empty).</summary>
    public int Round { get; private set; }

    /// <summary>FL rounds this object has run (the cost a cache saves).</summary>
    public int RoundsRun { get; private set; }

    /// <summary>The victims facing the model of <see cref="Round"/>: the view of round <see cref="Round"/> + 1 is computed on it.</summary>
    public VictimRound Victims => _victims.WithModel(_model);

    /// <summary>A copy of the victims' global model (parameters and buffers) to train, in the same train or eval mode, with empty defence sessions.</summary>
    public static TrainedRound Start(VictimRound victims, DefensePipeline pipeline)
    {
        var source = victims.Model;
        var model = ModelCatalog.Create(victims.Spec.Model, victims.Dataset.Shape, victims.Spec.NumClasses, Rng.For(victims.Seed, "training-model").NextTorchSeed(), victims.Device);
        var from = source.state_dict();
        using (torch.no_grad())
            foreach (var (name, target) in model.state_dict()) target.copy_(from[name]);
        if (source.training) model.train(); else model.eval();
        return new TrainedRound(victims, pipeline, model);
    }

    /// <summary>
    /// Trains on from <see cref="Round"/> to <paramref name="round"/>. A round whose aggregate is not finite (noise far
    /// above the signal) leaves no model to attack: a <see cref="NotApplicableException"/> says where it diverged.
    /// </summary>
    public void AdvanceTo(int round)
    {
        if (round < Round) throw new ArgumentOutOfRangeException(nameof(round), $"the training is at round {Round}, past {round}");
        var protocol = _victims.Spec.Protocol;
        double rate = protocol is FedSgd ? FedSgdServerRate : 1;
        while (Round < round)
        {
            using var scope = torch.NewDisposeScope();
            int t = Round + 1;
            var participants = _victims.TrainingRound(t).Select((c, k) => new Participant(k, c.StepBatches, c.BatchSize)).ToArray();
            var outcome = FederatedRound.Run(_model, protocol, Round, participants, _gradient, _sessions, _pipeline, _defenseRng, withClean: false);
            if (!FederatedRound.IsFinite(outcome.Aggregate))
                throw new NotApplicableException(string.Create(CultureInfo.InvariantCulture,
                    $"the federated training under {_pipeline.Canonical} diverged in round {t} (aggregate not finite), so there is no model of a later round to attack"));
            FederatedRound.Step(_parameters, _names, outcome.Aggregate, rate);
            Round = t;
            RoundsRun++;
        }
    }

    /// <summary>Every client's defence sessions as they stand after <see cref="Round"/>, to defend one attacked round without changing them.</summary>
    public PipelineSessions ForkSessions() => _sessions.Fork();

    public void Dispose()
    {
        _sessions.Dispose();
        _model.Dispose();
    }
}

/// <summary>
/// The trainings to attacked rounds of one run, with what they cost: one <see cref="TrainedRound"/> per (scenario,
/// seed, defence) at a time, shared by every attack of each of its rounds and carried on from round to round.
/// </summary>
public sealed class RoundTrainer(TextWriter? log = null)
{
    /// <summary>FL rounds trained in this run, every training together.</summary>
    public int RoundsRun { get; private set; }

    /// <summary>Trainings started in this run (one per scenario, seed and defence with round cells).</summary>
    public int Trainings { get; private set; }

    public TrainedRound Start(VictimRound victims, DefensePipeline pipeline)
    {
        Trainings++;
        return TrainedRound.Start(victims, pipeline);
    }

    /// <summary>Trains <paramref name="training"/> on to <paramref name="round"/>, counting and logging the rounds run.</summary>
    public void Advance(TrainedRound training, int round, string defence)
    {
        var clock = Stopwatch.StartNew();
        int before = training.RoundsRun;
        try
        {
            training.AdvanceTo(round);
        }
        finally
        {
            RoundsRun += training.RoundsRun - before;
        }
        int run = training.RoundsRun - before;
        if (run > 0)
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trained {run} rounds under {defence} to round {round} ({clock.Elapsed.TotalSeconds:F1} s)"));
    }
}
