using DefenseBench.Attacks.Tests.Support;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Data;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;

namespace DefenseBench.Attacks.Tests.LabelBaselines;

/// <summary>A last layer with a NaN or infinity gives no counts: the attack fails with the reason instead of answering.</summary>
public sealed class NonFiniteUpdateTests
{
    [Theory]
    [InlineData("llg", double.NaN)]
    [InlineData("ebi", double.NaN)]
    [InlineData("idlg-label", double.NaN)]
    [InlineData("gi-label", double.PositiveInfinity)]
    [InlineData("ilrg", double.NaN)]
    [InlineData("rlg", double.NegativeInfinity)]
    public void A_label_attack_refuses_a_non_finite_last_layer(string id, double value)
    {
        using var scope = torch.NewDisposeScope();
        var spec = AttackRun.Scenario(4, LabelDistribution.NonIid, mode: ModelMode.Eval);
        var dataset = DatasetCatalog.Open(spec.Dataset);
        var round = VictimRound.Create(spec, dataset, 0, torch.CPU);
        var view = DefensePipeline.None.View(round.Model, round.Uploads(), round.Info, new Rng(1));
        foreach (var update in view.ClientUpdates!.Append(view.Aggregate)) update[Classifier.FcWeight].index_put_(torch.tensor(value), 0, 0);
        var context = new AttackContext(torch.CPU, Rng.For(round.Seed, "attack"), new DatasetAuxiliary(dataset, spec.NumClasses), _ => [0]);

        var e = Assert.Throws<InvalidOperationException>(() => AttackCatalog.All.Get(id).CreateDefault().Run(view, context));

        Assert.Contains("non-finite", e.Message, StringComparison.Ordinal);
    }
}
