using DefenseBench.Attacks.MaliciousServer;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Metrics;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses;
using TorchSharp;

namespace DefenseBench.Attacks.Tests.MaliciousServer;

public sealed class FishingTests
{
    private static ScenarioSpec Scenario(int clients, int batchSize, LabelDistribution labels = LabelDistribution.NonIid, Protocol? protocol = null,
        string model = "lenet5-bn", ModelMode mode = ModelMode.Train, string dataset = "synthetic-mnist") =>
        new(dataset, 10, model, batchSize, labels, clients, protocol ?? new FedSgd(), TrainingStage.Untrained, mode);

    private static DefensePipeline SecAgg(string id = "secagg") =>
        DefensePipeline.From([DefenseCatalog.All.Get(id).CreateDefault()]);

    /// <summary>The harness's flow for a crafting attack: craft, clients train on the crafted models, defend, attack; LnAcc per client.</summary>
    private static (double[] LnAcc, AttackOutcome Outcome) Run(ScenarioSpec spec, DefensePipeline pipeline, int trial = 0)
    {
        using var scope = torch.NewDisposeScope();
        var round = VictimRound.Create(spec, DatasetCatalog.Open(spec.Dataset), trial, torch.CPU);
        var fishing = new Fishing(1e4);
        var sent = fishing.Craft(round.Model, round.Info, Rng.For(round.Seed, "craft"));
        var view = pipeline.View(round.Model, round.Uploads(sent), round.Info, Rng.For(round.Seed, "defense"), sent);
        var outcome = fishing.Run(view, new AttackContext(torch.CPU, Rng.For(round.Seed, "attack")));
        return (outcome.Labels.Select(l => LabelMetrics.LnAcc(l.Counts, round.Clients[l.Target].TrueCounts)).ToArray(), outcome);
    }

    [Theory]
    [InlineData(1, LabelDistribution.NonIid)]
    [InlineData(7, LabelDistribution.Iid)]
    [InlineData(64, LabelDistribution.NonIid)]
    [InlineData(512, LabelDistribution.Iid)]
    [InlineData(512, LabelDistribution.NonIid)]
    public void Fishing_recovers_every_clients_exact_counts_through_secure_aggregation(int batchSize, LabelDistribution labels)
    {
        foreach (int trial in new[] { 0, 1 })
        {
            var (lnAcc, outcome) = Run(Scenario(4, batchSize, labels), SecAgg(), trial);

            Assert.Equal([0, 1, 2, 3], outcome.Labels.Select(l => l.Target));
            Assert.All(lnAcc, a => Assert.Equal(1.0, a));
        }
    }

    public static TheoryData<string> DropoutRounds => ["advertise", "share", "mask", "unmask"];

    /// <summary>SecAgg with one of five clients dropping in <paramref name="round"/>; max_weight 16 keeps weights B / 16 ≤ 1.</summary>
    private static DefensePipeline Dropping(string round)
    {
        var entry = DefenseCatalog.All.Get("secagg");
        return DefensePipeline.From([entry.Create(ParameterValues.Create(entry.Parameters,
            new Dictionary<string, object> { ["max_weight"] = 16.0, ["dropout"] = 0.2, ["dropout_phase"] = round }))]);
    }

    /// <summary>Five clients with unequal batch sizes, so a wrong ΣB or wrong FedAvg weights show in every count.</summary>
    private static readonly int[] UnequalBatches = [3, 16, 7, 12, 5];

    private static (VictimRound Round, ServerView View, AttackOutcome Outcome) RunUnequal(IAttack attack, string dropoutRound, int trial)
    {
        var spec = Scenario(5, 16);
        var round = VictimRound.Create(spec, DatasetCatalog.Open(spec.Dataset), trial, torch.CPU).WithBatchSizes(UnequalBatches);
        var sent = attack is IModelCrafter crafter ? crafter.Craft(round.Model, round.Info, Rng.For(round.Seed, "craft")) : null;
        var uploads = sent == null ? round.Uploads() : round.Uploads(sent);
        var view = Dropping(dropoutRound).View(round.Model, uploads, round.Info, Rng.For(round.Seed, "defense"), sent);
        return (round, view, attack.Run(view, new AttackContext(torch.CPU, Rng.For(round.Seed, "attack"))));
    }

    [Theory]
    [MemberData(nameof(DropoutRounds))]
    public void Through_secure_aggregation_with_a_dropout_fishing_recovers_every_survivor_exactly(string dropoutRound)
    {
        foreach (int trial in new[] { 0, 1 })
        {
            using var scope = torch.NewDisposeScope();
            var (round, view, outcome) = RunUnequal(new Fishing(1e4), dropoutRound, trial);

            // A client that leaves in the unmask round has sent its masked input: it is in the sum, a survivor.
            Assert.Equal(dropoutRound == "unmask" ? 5 : 4, view.Contributors.Count);
            Assert.Equal(view.Contributors, outcome.Labels.Select(l => l.Target));
            Assert.All(outcome.Labels, l => Assert.Equal(round.Clients[l.Target].TrueCounts, l.Counts));
        }
    }

    [Theory]
    [MemberData(nameof(DropoutRounds))]
    public void Through_secure_aggregation_with_a_dropout_llg_reads_the_survivors_labels(string dropoutRound)
    {
        using var scope = torch.NewDisposeScope();
        var (round, view, outcome) = RunUnequal(AttackCatalog.All.Get("llg").CreateDefault(), dropoutRound, 0);

        var survivors = view.Contributors;
        Assert.Equal(survivors.Sum(k => UnequalBatches[k]), view.AggregateBatchSize);
        var recovery = Assert.Single(outcome.Labels);
        Assert.Equal(LabelRecovery.Aggregate, recovery.Target);
        // Plain LLG outputs at least the survivors' N labels (more only when more classes are negative than that).
        Assert.InRange(recovery.Counts.Sum(), view.AggregateBatchSize, Math.Max(view.AggregateBatchSize, 10));
        Assert.Equal(dropoutRound == "unmask" ? UnequalBatches.Sum() : UnequalBatches.Sum() - UnequalBatches[view.Dropped.Single()],
            view.AggregateBatchSize);
    }

    [Fact]
    public void Fishing_is_exact_through_secagg_plus_in_eval_mode()
    {
        var (lnAcc, _) = Run(Scenario(12, 16, mode: ModelMode.Eval), SecAgg("secagg-plus"));

        Assert.All(lnAcc, a => Assert.Equal(1.0, a));
    }

    [Theory]
    [InlineData("vgg11-bn", ModelMode.Train)]
    [InlineData("vgg11-bn", ModelMode.Eval)]
    [InlineData("resnet18", ModelMode.Train)]
    public void Fishing_through_the_dominating_batch_norm_of_vgg_and_resnet_recovers_every_clients_counts(string model, ModelMode mode)
    {
        // Plain aggregation: the server sees the same sum as through SecAgg (exact on lenet5-bn above), and masking
        // VGG's 28 M values with real cryptography would cost CI tens of seconds.
        var (lnAcc, outcome) = Run(Scenario(3, 4, mode: mode, model: model, dataset: "synthetic-cifar10"), DefensePipeline.None);

        Assert.Equal(3, lnAcc.Length);
        Assert.All(lnAcc, a => Assert.Equal(1.0, a));
        Assert.True(outcome.Extras["condition"] < 1e4);
    }

    [Fact]
    public void Without_a_defence_the_least_squares_fit_is_exact_to_float_precision()
    {
        var (lnAcc, outcome) = Run(Scenario(6, 32), DefensePipeline.None);

        Assert.All(lnAcc, a => Assert.Equal(1.0, a));
        Assert.InRange(outcome.Extras["residual"], 0, 1e-5);
        Assert.InRange(outcome.Extras["condition"], 1, 1e4);
    }

    [Fact]
    public void With_d_clients_the_designed_shifts_keep_the_embeddings_well_conditioned()
    {
        var (lnAcc, outcome) = Run(Scenario(84, 2), SecAgg("secagg-plus"));

        Assert.InRange(outcome.Extras["condition"], 1, 100);
        Assert.All(lnAcc, a => Assert.Equal(1.0, a));
    }

    [Fact]
    public void Two_local_steps_break_the_preset_embedding_and_the_recovery()
    {
        var oneStep = Run(Scenario(4, 64, protocol: new FedAvg(1, 0.5)), SecAgg()).LnAcc;
        var twoSteps = Run(Scenario(4, 64, protocol: new FedAvg(2, 0.5)), SecAgg()).LnAcc;

        Assert.All(oneStep, a => Assert.Equal(1.0, a));
        Assert.True(twoSteps.Average() < 0.9, $"mean LnAcc with two local steps: {twoSteps.Average()}");
    }

    /// <summary>Why crafting refuses: the not-applicable reason for <paramref name="clients"/> clients of batch 4.</summary>
    private static string CraftRefusal(string model, int clients, double maxCondition = 1e4)
    {
        using var scope = torch.NewDisposeScope();
        var global = Core.Models.ModelCatalog.Create(model, ImageShape.Mnist, 10, 1, torch.CPU);
        var info = new PublicInfo(10, ImageShape.Mnist, new FedSgd(), Enumerable.Repeat(4, clients).ToArray());
        return Assert.Throws<NotApplicableException>(() => new Fishing(maxCondition).Craft(global, info, new Rng(1))).Message;
    }

    [Fact]
    public void More_clients_than_d_plus_1_are_not_applicable_before_anything_is_sent()
    {
        Assert.Equal("fishing separates at most d + 1 = 85 clients (embedding size d = 84); this scenario has 86", CraftRefusal("lenet5-bn", 86));
    }

    [Fact]
    public void A_model_without_a_dominating_batch_norm_is_not_applicable()
    {
        Assert.Contains("LeNet5 has none", CraftRefusal("lenet5", 2), StringComparison.Ordinal);
    }

    [Fact]
    public void An_impossible_condition_bound_is_not_applicable_with_the_condition_found()
    {
        Assert.StartsWith("the crafted embeddings are nearly dependent: the best of 9 shift sets has cond(E~) = ", CraftRefusal("lenet5-bn", 3, maxCondition: 1.0),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Crafting_leaves_the_global_model_unchanged()
    {
        using var scope = torch.NewDisposeScope();
        var model = Core.Models.ModelCatalog.Create("lenet5-bn", ImageShape.Mnist, 10, 1, torch.CPU);
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        new Fishing(1e4).Craft(model, new PublicInfo(10, ImageShape.Mnist, new FedSgd(), [4, 4]), new Rng(1));

        Assert.All(model.named_parameters(), p => Assert.True(p.parameter.eq(before[p.name]).all().item<bool>(), p.name));
        Assert.True(model.state_dict()["bn.running_var"].eq(before["bn.running_var"]).all().item<bool>());
    }

    [Fact]
    public void The_catalog_spells_out_the_condition_bound()
    {
        var info = AttackCatalog.All.Get("fishing");

        Assert.Equal("fishing(max_condition=10000)", ParameterValues.Create(info.Parameters).CanonicalName("fishing"));
    }
}
