using DefenseBench.Attacks.Common;
using DefenseBench.Attacks.Reconstruction;
using DefenseBench.Attacks.Tests.Support;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Defenses;
using DefenseBench.Defenses.Compression;
using TorchSharp;
using Xunit;

namespace DefenseBench.Attacks.Tests.Common;

/// <summary>Attacks that know the defence (docs/attacks.md, adaptive attacks).</summary>
public sealed class AdaptiveAttackTests
{
    private static IAttack Create(string id, bool adaptive, Dictionary<string, object>? more = null)
    {
        var entry = AttackCatalog.All.Get(id);
        var given = new Dictionary<string, object>(more ?? []) { ["adaptive"] = adaptive };
        return entry.Create(ParameterValues.Create(entry.Parameters, given));
    }

    private static readonly ScenarioSpec Fcn3 = AttackRun.Scenario(8, LabelDistribution.NonIid, model: "fcn3", clients: 2);

    [Fact]
    public void A_view_describes_its_defence_and_an_attacker_reads_what_it_can_use()
    {
        var pipeline = DefensePipeline.From([DefenseCatalog.DpSgd(1, 0), DefenseCatalog.TopK(0.1, TopKScope.Global, false)]);
        var described = pipeline.Public;
        Assert.Equal(pipeline.Canonical, described.Canonical);
        Assert.Equal(["dpsgd", "topk"], described.Stages.Select(s => s.Id));
        Assert.Equal([StageRole.Gradient, StageRole.Upload], described.Stages.Select(s => s.Role));
        Assert.Equal(1.0, described.Stages[0].Real("clip"));
        var known = KnownDefense.Of(described);
        Assert.Equal(new KnownDefense(1.0, null, null, 0.1, true, false), known);
        Assert.Equal(KnownDefense.Nothing, KnownDefense.Of(DefensePipeline.None.Public));
        Assert.True(KnownDefense.Of(DefensePipeline.From([DefenseCatalog.DpFedAvg(1, 0.5)]).Public) is { UpdateClip: 1.0, Noised: true });
    }

    [Fact]
    public void Knowing_that_there_is_no_defence_changes_nothing()
    {
        var on = AttackRun.Run(Create("llg-plus", true, new() { ["aux_per_class"] = 16L }), Fcn3, 0);
        var off = AttackRun.Run(Create("llg-plus", false, new() { ["aux_per_class"] = 16L }), Fcn3, 0);
        Assert.Equal(off.Predicted, on.Predicted);
    }

    [Theory]
    [InlineData("dpsgd")]
    [InlineData("clipnoise")]
    public void Adaptive_llg_plus_sees_through_clipping_that_fools_the_published_attack(string defence)
    {
        // Clipping without noise (ε = ∞) hides nothing from an attacker who knows the clip norm (README, threat models).
        var pipeline = DefensePipeline.From([defence == "dpsgd" ? DefenseCatalog.DpSgd(1, 0) : DefenseCatalog.ClipNoise(0.1, 0)]);
        double Mean(bool adaptive) => Enumerable.Range(0, 3)
            .Average(t => AttackRun.Run(Create("llg-plus", adaptive, new() { ["aux_per_class"] = 16L }), Fcn3, t, pipeline).Asr);
        double on = Mean(true), off = Mean(false);
        Assert.True(on >= 0.9 && on >= off + 0.15, $"{defence}: adaptive {on:F3}, published {off:F3}");
    }

    [Fact]
    public void Defence_aware_matching_clips_the_dummy_gradient_then_keeps_the_transmitted_coordinates()
    {
        using var scope = torch.NewDisposeScope();
        var known = KnownDefense.Nothing with { UpdateClip = 1.0, Keep = 0.5 };
        var upload = torch.tensor(new float[] { 0, 0.6f, 0, 0.8f }).reshape(1, 4);
        var objective = (DefenseAwareMatch)DefenseAwareMatch.For(known, [upload], UpdateKind.Gradient, new FedSgd(), knowsScale: true,
            targets => new GradientMatch(targets));
        var defended = objective.Defend([torch.tensor(new float[] { 10, 10, 10, 10 }).reshape(1, 4)])[0].data<float>().ToArray();
        Assert.Equal([0f, 0.5f, 0f, 0.5f], defended.Select(v => MathF.Round(v, 5)));
        // The upload itself is a fixed point: clipped already, zero where nothing was sent.
        Assert.Equal(0, objective.Losses([upload]).item<float>(), 6);
        Assert.IsType<GradientMatch>(DefenseAwareMatch.For(KnownDefense.Nothing, [upload], UpdateKind.Gradient, new FedSgd(), true,
            targets => new GradientMatch(targets)));
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(100.0)]
    public void Defence_aware_matching_runs_at_unit_scale_whatever_the_clip_norm(double clip)
    {
        // The same problem at clip C and at clip 1 (upload and dummy both scaled by C): the same loss, so an optimiser with
        // fixed steps and tolerances sees the same problem whatever the deployed clip norm.
        using var scope = torch.NewDisposeScope();
        float[] direction = [0, 0.6f, 0, 0.8f], dummy = [3, -1, 2, 5];
        float Loss(double c, string kind)
        {
            var known = kind == "whole" ? KnownDefense.Nothing with { UpdateClip = c } : KnownDefense.Nothing with { TensorClip = c };
            var upload = torch.tensor(direction.Select(v => (float)(v * c)).ToArray()).reshape(1, 4);
            var objective = DefenseAwareMatch.For(known, [upload], UpdateKind.Gradient, new FedSgd(), knowsScale: true, targets => new GradientMatch(targets));
            return objective.Losses([torch.tensor(dummy.Select(v => (float)(v * c)).ToArray()).reshape(1, 4)]).item<float>();
        }

        foreach (string kind in new[] { "whole", "tensor" })
        {
            float atOne = Loss(1, kind);
            Assert.True(atOne > 0.1f, $"{kind}: {atOne}");
            Assert.Equal(atOne, Loss(clip, kind), 4);
        }
    }

    [Theory]
    [InlineData("tensor", DlmForm.Update)]
    [InlineData("tensor", DlmForm.Delta)]
    [InlineData("whole", DlmForm.Update)]
    [InlineData("whole", DlmForm.Delta)]
    [InlineData("example", DlmForm.Update)]
    public void Under_a_clip_dlms_learned_scale_starts_where_the_normalised_gradient_and_upload_meet(string clip, DlmForm form)
    {
        // The clip left the upload at its bound, whatever the gradient's norm: DLM's k would have to cover that factor
        // (here 10⁴ away from k₀ = 60) unless the match is scale-free with k₀ on the dummy side. The true gradient is then
        // a zero of D at the start, and a gradient pointing elsewhere is not.
        using var scope = torch.NewDisposeScope();
        float[] first = [30, -40, 0, 120], second = [50, 120];
        var known = clip switch
        {
            "tensor" => KnownDefense.Nothing with { TensorClip = 0.01 },
            "whole" => KnownDefense.Nothing with { UpdateClip = 0.01 },
            _ => KnownDefense.Nothing with { ExampleClip = 0.01 },
        };
        torch.Tensor[] Gradient(float scale, float[] a, float[] b) =>
            [torch.tensor(a.Select(v => v * scale).ToArray()).reshape(1, 4), torch.tensor(b.Select(v => v * scale).ToArray()).reshape(1, 2)];
        // Clipped per tensor (norms 130 and 130) or as a whole (norm 130·√2): either way a scale of about 10⁻⁴.
        var upload = Gradient(clip == "tensor" ? 0.01f / 130 : 0.01f / (130 * MathF.Sqrt(2)), first, second);
        var objective = DefenseAwareMatch.For(known, upload, UpdateKind.Gradient, new FedSgd(), knowsScale: false,
            targets => new ScaledMatch(targets, kInit: 60, problems: 1, form: form));

        Assert.Equal(0, objective.Losses(Gradient(1, first, second)).item<float>(), 4);
        Assert.True(objective.Losses(Gradient(1, [120, 0, -40, 30], second)).item<float>() > 1);
    }
}
