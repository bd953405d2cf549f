using DefenseBench.Attacks.Common;
using DefenseBench.Attacks.Tests.Support;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;

namespace DefenseBench.Attacks.Tests.IlrgFamily;

public sealed class IlrgAttackTests
{
    private static IAttack Create(string id) => AttackCatalog.All.Get(id).CreateDefault();

    private static ScenarioSpec Cifar(string model, int batch, Protocol? protocol = null) =>
        AttackRun.Scenario(batch, LabelDistribution.Iid, protocol, model, "synthetic-cifar100", mode: ModelMode.Eval);

    private static (double LeAcc, double LnAcc, int[] Predicted, int[] Truth) Score(string attack, ScenarioSpec spec, int trial)
    {
        var (outcome, truths) = AttackRun.Outcome(Create(attack), spec, trial);
        var (predicted, truth) = (outcome.Labels[0].Counts, truths[outcome.Labels[0].Target]);
        return (LabelMetrics.LeAcc(predicted, truth), LabelMetrics.LnAcc(predicted, truth), predicted, truth);
    }

    [Theory]
    [InlineData("lenet5")]
    [InlineData("lenet5-silu")]
    [InlineData("lenet5-leaky")]
    public void Ilrg_recovers_every_count_at_batch_24_with_relu_silu_and_leaky_relu(string model)
    {
        for (int trial = 0; trial < 4; trial++)
        {
            var (leacc, lnacc, predicted, truth) = Score("ilrg", Cifar(model, 24), trial);
            Assert.True(leacc == 1 && lnacc == 1, $"{model} seed {trial}: {string.Join(",", predicted)} for {string.Join(",", truth)}");
        }
    }

    [Theory]
    [InlineData("lenet5-silu")]
    [InlineData("lenet5-leaky")]
    public void Gi_fails_on_negative_embedding_entries_where_ilrg_does_not(string model)
    {
        var gi = Enumerable.Range(0, 4).Select(t => Score("gi-label", Cifar(model, 24), t).LeAcc).Average();

        Assert.True(gi < 0.4, $"GI's mean LeAcc on {model}: {gi:F3}");
    }

    [Fact]
    public void Idlg_fails_on_silu_models_whose_initialisation_makes_the_embedding_sums_negative()
    {
        // iDLG's sign rule needs O_k = Σ_d e_kd > 0. SiLU's small outputs make O_k's sign that of a sum fixed by the
        // initialisation, so iDLG is right or inverted per model; the reference logs one model (LeAcc .150).
        var idlg = Enumerable.Range(0, 6).Select(t => Score("idlg-label", Cifar("lenet5-silu", 24), t).LeAcc).ToArray();

        Assert.Contains(idlg, leacc => leacc <= 0.1);
        Assert.Contains(idlg, leacc => leacc >= 0.9);
    }

    [Fact]
    public void Simplified_ilrg_recovers_the_counts_of_the_known_classes()
    {
        var (leacc, lnacc, predicted, truth) = Score("ilrg-sim", Cifar("lenet5", 64), 1);

        Assert.True(leacc == 1 && lnacc == 1, $"{string.Join(",", predicted)} for {string.Join(",", truth)}");
    }

    [Fact]
    public void The_sum_to_batch_correction_makes_the_counts_sum_to_the_batch()
    {
        var spec = Cifar("lenet5", 256);
        var corrected = AttackRun.Outcome(new DefenseBench.Attacks.IlrgFamily.Ilrg(sumToBatch: true), spec, 0).Outcome.Labels[0].Counts;

        Assert.Equal(256, corrected.Sum());
    }

    [Fact]
    public void A_fedavg_upload_with_a_small_learning_rate_gives_the_counts_of_all_local_steps()
    {
        var (leacc, lnacc, predicted, truth) = Score("ilrg", Cifar("lenet5", 8, new FedAvg(2, 0.001)), 0);

        Assert.Equal(16, truth.Sum());
        Assert.True(leacc == 1 && lnacc == 1, $"{string.Join(",", predicted)} for {string.Join(",", truth)}");
    }

    [Theory]
    [InlineData("ilrg")]
    [InlineData("ilrg-sim")]
    [InlineData("ebi")]
    public void Attacks_that_need_the_bias_are_not_applicable_to_an_update_without_it(string id)
    {
        using var scope = torch.NewDisposeScope();
        var model = ModelCatalog.Create("fcn3", ImageShape.Mnist, 10, 1, torch.CPU);
        var update = new Update(UpdateKind.Gradient, [(Classifier.FcWeight, torch.zeros(10, 300))]);
        var view = new ServerView(model, [update], update, new PublicInfo(10, ImageShape.Mnist, new FedSgd(), [4]));

        var e = Assert.Throws<NotApplicableException>(() => Create(id).Run(view, new AttackContext(torch.CPU, new Rng(1), KnownClasses: _ => [1])));

        Assert.Contains("bias", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Simplified_ilrg_is_not_applicable_when_the_present_classes_are_not_lent()
    {
        using var scope = torch.NewDisposeScope();
        var model = ModelCatalog.Create("fcn3", ImageShape.Mnist, 10, 1, torch.CPU);
        var update = new Update(UpdateKind.Gradient, [(Classifier.FcWeight, torch.zeros(10, 300)), (Classifier.FcBias, torch.zeros(10))]);
        var view = new ServerView(model, [update], update, new PublicInfo(10, ImageShape.Mnist, new FedSgd(), [4]));

        Assert.Throws<NotApplicableException>(() => Create("ilrg-sim").Run(view, new AttackContext(torch.CPU, new Rng(1))));
    }

    [Fact]
    public void Ilrg_reads_only_the_last_layer_so_it_can_audit_a_captured_update()
    {
        Assert.IsAssignableFrom<LastLayerAttack>(Create("ilrg"));
        Assert.True(((LastLayerAttack)Create("ilrg")).NeedsFcParameters);
    }
}
