using System.Globalization;
using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;

namespace DefenseBench.Defenses.Privacy;

/// <summary>
/// The DP guarantee of a defence pipeline over a training run: ε at δ, whose presence it hides (an example or a whole
/// client), the stage it comes from and that stage's Gaussian phases. Each DP stage alone bounds what the server sees
/// (everything after it is post-processing, everything before it is input to it), and hiding a whole client hides each
/// of its examples too, so the pipeline's ε is the smallest of its stages'.
/// </summary>
public sealed record PipelinePrivacy(PrivacySpent Spent, PrivacyUnit Unit, string Stage, IReadOnlyList<GaussianPhase> Phases)
{
    /// <summary>How the run drew its batches: poisson (what the accountant assumes), fixed (not covered), schedule (nothing sampled).</summary>
    public string Sampling { get; init; } = "poisson";

    /// <summary>The guarantee of <paramref name="pipeline"/> over <paramref name="run"/>; null when no stage is a DP mechanism.</summary>
    public static PipelinePrivacy? For(DefensePipeline pipeline, TrainingShape run, double delta)
    {
        IEnumerable<IDefense> stages = pipeline.Aggregation == null ? pipeline.ClientStages : [.. pipeline.ClientStages, pipeline.Aggregation];
        return stages.OfType<IPrivateDefense>()
            .Select(stage =>
            {
                var phases = stage.Phases(run);
                return new PipelinePrivacy(RdpAccountant.Epsilon(phases, delta), stage.Unit, stage.Canonical, phases)
                {
                    Sampling = run.UsesPerExample != null ? "schedule" : run.FixedSize ? "fixed(not covered by the accountant)" : "poisson",
                };
            })
            .OrderBy(p => p.Spent.Epsilon)
            .FirstOrDefault();
    }

    /// <summary>What the ε stands for, for the CSV: "unit=example;stage=dpsgd(clip=1,z=1);q=0.25;z=1;steps=20;order=9.5".</summary>
    public string Describe()
    {
        var text = string.Join(";", Phases.Select(p => string.Create(CultureInfo.InvariantCulture,
            $"q={p.SampleRate:G6};z={p.NoiseMultiplier:G6};steps={p.Steps}")));
        string order = double.IsNaN(Spent.Order) ? "none" : ParameterSpec.FormatReal(Spent.Order) + (Spent.OrderAtGridEnd ? "(grid end)" : "");
        return $"unit={(Unit == PrivacyUnit.Example ? "example" : "client")};stage={Stage};{text};order={order};accountant=rdp;sampling={Sampling}";
    }
}
