using DefenseBench.Core.Defenses;
using DefenseBench.Defenses.Compression;
using DefenseBench.Defenses.Noise;
using DefenseBench.Defenses.Privacy;

namespace DefenseBench.Defenses.Tests.Privacy;

public sealed class PipelinePrivacyTests
{
    private static readonly TrainingShape Run = new(10, 10, 20, 5, 32, 600, 8);

    [Fact]
    public void A_pipeline_without_a_dp_stage_has_no_epsilon()
    {
        Assert.Null(PipelinePrivacy.For(DefensePipeline.None, Run, 1e-5));
        Assert.Null(PipelinePrivacy.For(DefensePipeline.From([DefenseCatalog.TopK(0.1, TopKScope.Layer, true), DefenseCatalog.AdditiveNoise(1, NoiseDistribution.Gaussian)]), Run, 1e-5));
    }

    [Fact]
    public void Post_processing_keeps_the_dp_stages_epsilon()
    {
        var alone = PipelinePrivacy.For(DefensePipeline.From([DefenseCatalog.DpSgd(1, 1.1)]), Run, 1e-5)!;
        var sparsified = PipelinePrivacy.For(DefensePipeline.From([DefenseCatalog.DpSgd(1, 1.1), DefenseCatalog.TopK(0.1, TopKScope.Layer, true)]), Run, 1e-5)!;

        Assert.Equal(RdpAccountant.Epsilon(32.0 / 600, 1.1, 100, 1e-5).Epsilon, alone.Spent.Epsilon);
        Assert.Equal(alone.Spent, sparsified.Spent);
        Assert.Equal(PrivacyUnit.Example, sparsified.Unit);
    }

    [Fact]
    public void Several_dp_stages_give_the_smallest_epsilon_of_any_of_them()
    {
        var pipeline = DefensePipeline.From([DefenseCatalog.DpSgd(1, 0.3), DefenseCatalog.DpFedAvg(1, 5)]);

        var privacy = PipelinePrivacy.For(pipeline, Run, 1e-5)!;

        double example = RdpAccountant.Epsilon(32.0 / 600, 0.3, 100, 1e-5).Epsilon;
        double client = RdpAccountant.Epsilon(1.0, 5, 20, 1e-5).Epsilon;
        Assert.Equal(Math.Min(example, client), privacy.Spent.Epsilon);
        Assert.Equal(client < example ? "dpfedavg(clip=1,z=5)" : "dpsgd(clip=1,z=0.3)", privacy.Stage);
    }

    [Fact]
    public void The_description_says_what_the_epsilon_stands_for()
    {
        var privacy = PipelinePrivacy.For(DefensePipeline.From([DefenseCatalog.DpFedAvg(1, 1)]), new TrainingShape(4, 2, 3, 1, 8, 100, 8), 1e-5)!;

        Assert.StartsWith("unit=client;stage=dpfedavg(clip=1,z=1);q=0.5;z=1;steps=3;order=", privacy.Describe(), StringComparison.Ordinal);
        Assert.EndsWith(";accountant=rdp;sampling=poisson", privacy.Describe(), StringComparison.Ordinal);
        Assert.Equal(1e-5, privacy.Spent.Delta);
    }

    [Fact]
    public void No_noise_means_no_privacy()
    {
        var privacy = PipelinePrivacy.For(DefensePipeline.From([DefenseCatalog.DpSgd(1, 0)]), Run, 1e-5)!;

        Assert.Equal(double.PositiveInfinity, privacy.Spent.Epsilon);
    }
}
