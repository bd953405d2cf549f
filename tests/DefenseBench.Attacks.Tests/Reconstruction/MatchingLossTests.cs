using DefenseBench.Attacks.Reconstruction;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Tests.Reconstruction;

public sealed class MatchingLossTests
{
    private const double LearningRate = 0.01;

    /// <summary>
    /// A FedAvg delta (one SGD step with η = 0.01) and, as "dummy" gradients, the gradient of another batch, each as a
    /// set of one problem ([1, ...]).
    /// </summary>
    private static (Tensor[] Delta, Tensor[] Dummy) Draw(ulong seed)
    {
        var model = ModelCatalog.Create("dlg-lenet", ImageShape.Mnist, 10, (long)seed, torch.CPU);
        var rng = new Rng(seed);
        Batch Batch() => new(torch.rand([1, 1, 28, 28], generator: new Generator(rng.NextULong(), torch.CPU)), torch.tensor(new long[] { rng.NextInt(10) }));
        var delta = LocalTraining.Compute(model, new FedAvg(1, LearningRate), [Batch()]);
        var dummy = LocalTraining.Gradient(model, Batch());
        return (One(delta.Tensors), One(dummy.Tensors));
    }

    private static Tensor[] One(IEnumerable<Tensor> tensors) => tensors.Select(t => t.unsqueeze(0)).ToArray();

    private static double Value(Tensor loss) => loss.item<float>();

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void Dlm_loss_with_k_fixed_to_one_over_the_learning_rate_equals_dlg_loss_on_the_true_gradient(ulong seed)
    {
        using var scope = torch.NewDisposeScope();
        var (delta, dummy) = Draw(seed);
        var gradient = Dlg.Gradient(delta, UpdateKind.WeightDelta, new FedAvg(1, LearningRate));

        double dlm = Value(new ScaledMatch(delta, 1 / LearningRate, 1).Losses(dummy));
        double dlg = Value(new GradientMatch(gradient).Losses(dummy));

        Assert.True(dlg > 0);
        Assert.Equal(dlg, dlm, dlg * 1e-5);
    }

    [Fact]
    public void Dlm_loss_at_another_k_differs_from_dlg_loss()
    {
        using var scope = torch.NewDisposeScope();
        var (delta, dummy) = Draw(4);
        var gradient = Dlg.Gradient(delta, UpdateKind.WeightDelta, new FedAvg(1, LearningRate));

        double dlg = Value(new GradientMatch(gradient).Losses(dummy));

        Assert.True(Math.Abs(Value(new ScaledMatch(delta, 0.6 / LearningRate, 1).Losses(dummy)) - dlg) > dlg * 1e-3);
    }

    [Theory]
    [InlineData(DlmForm.Update)]
    [InlineData(DlmForm.Delta)]
    public void Both_dlm_forms_equal_dlg_loss_with_k_at_its_start_one_over_the_learning_rate(DlmForm form)
    {
        using var scope = torch.NewDisposeScope();
        var (delta, dummy) = Draw(5);
        var gradient = Dlg.Gradient(delta, UpdateKind.WeightDelta, new FedAvg(1, LearningRate));

        double dlg = Value(new GradientMatch(gradient).Losses(dummy));

        Assert.Equal(dlg, Value(new ScaledMatch(delta, 1 / LearningRate, 1, form: form).Losses(dummy)), dlg * 1e-5);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(1.7)]
    [InlineData(40.0)]
    public void The_update_form_is_the_delta_form_weighted_by_the_squared_ratio_of_start_to_k_and_shares_its_zeros(double k)
    {
        using var scope = torch.NewDisposeScope();
        var (delta, dummy) = Draw(6);
        const double start = 1 / LearningRate;
        using var kTensor = torch.tensor(new[] { (float)(k * start) });
        using var kStart = torch.tensor((float)start);

        double byDelta = Value(MatchingLoss.Scaled(dummy, delta, kTensor));
        double byUpdate = Value(MatchingLoss.ScaledUpdate(dummy, delta, kTensor, kStart));
        var exact = delta.Select(d => d * (k * start)).ToArray();

        Assert.Equal(byDelta / (k * k), byUpdate, byUpdate * 1e-5);
        Assert.Equal(0, Value(MatchingLoss.ScaledUpdate(exact, delta, kTensor, kStart)), 1e-9);
    }

    [Fact]
    public void A_vanishing_dummy_gradient_with_k_towards_zero_minimises_the_delta_form_but_not_the_update_form()
    {
        using var scope = torch.NewDisposeScope();
        var (delta, dummy) = Draw(7);
        const double start = 1 / LearningRate;
        double floor = delta.Sum(d => Value((d * start).square().sum())); // k₀²·‖ΔW‖²

        using var kStart = torch.tensor((float)start);
        foreach (double epsilon in new[] { 1e-2, 1e-4, 1e-6 })
        {
            // The code's objective falls with ε² along this path towards D = 0; the update form stays near k₀²·‖ΔW‖².
            using var k = torch.tensor(new[] { (float)(epsilon * start) });
            var vanishing = dummy.Select(g => g * epsilon).ToArray();
            double byDelta = Value(MatchingLoss.Scaled(vanishing, delta, k));
            double byUpdate = Value(MatchingLoss.ScaledUpdate(vanishing, delta, k, kStart));

            Assert.True(byDelta < floor * epsilon, $"ε {epsilon}: delta form {byDelta:E3}, floor {floor:E3}");
            Assert.True(byUpdate > floor * 0.1, $"ε {epsilon}: update form {byUpdate:E3}, floor {floor:E3}");
        }
    }

    [Theory]
    [InlineData(1e-4)]
    [InlineData(0.37)]
    [InlineData(1.0)]
    [InlineData(25.0)]
    [InlineData(1e5)]
    public void Dlm_plus_loss_is_invariant_to_scaling_the_delta_by_any_positive_factor(double c)
    {
        using var scope = torch.NewDisposeScope();
        for (ulong seed = 10; seed < 14; seed++)
        {
            var (delta, dummy) = Draw(seed);

            double reference = Value(MatchingLoss.ScaleFree(dummy, delta));
            double scaled = Value(MatchingLoss.ScaleFree(dummy, delta.Select(t => t * c).ToArray()));

            Assert.True(reference > 0);
            Assert.Equal(reference, scaled, reference * 1e-5);
        }
    }

    [Fact]
    public void Dlm_plus_loss_changes_when_one_tensor_alone_is_scaled()
    {
        using var scope = torch.NewDisposeScope();
        var (delta, dummy) = Draw(20);
        var skewed = delta.Select((t, i) => i == 0 ? t * 3 : t).ToArray();

        double reference = Value(MatchingLoss.ScaleFree(dummy, delta));

        Assert.True(Math.Abs(Value(MatchingLoss.ScaleFree(dummy, skewed)) - reference) > reference * 1e-3);
    }

    [Fact]
    public void The_dlm_plus_norm_is_the_mean_of_per_tensor_norms_not_the_global_norm()
    {
        using var scope = torch.NewDisposeScope();
        var tensors = One([torch.tensor(new float[] { 3, 4 }), torch.tensor(new float[] { 1, 0, 0 })]);

        // (‖(3, 4)‖ + ‖(1, 0, 0)‖) / 2 = (5 + 1) / 2; the global norm would be √26.
        Assert.Equal(3.0, Value(MatchingLoss.MeanNorm(tensors)), 6);
    }

    [Fact]
    public void The_dlg_distance_is_the_sum_of_squared_differences_over_every_tensor()
    {
        using var scope = torch.NewDisposeScope();
        var a = One([torch.tensor(new float[] { 1, 2 }), torch.tensor(new float[] { 0 })]);
        var b = One([torch.tensor(new float[] { 0, 4 }), torch.tensor(new float[] { 3 })]);

        Assert.Equal(1 + 4 + 9, Value(MatchingLoss.Euclidean(a, b)), 6);
    }

    [Fact]
    public void Soft_cross_entropy_with_confident_label_logits_is_the_hard_cross_entropy()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.tensor(new float[] { 0.3f, -1.2f, 2.0f, 0.1f, -0.4f, 0.9f }).reshape(2, 3);
        var labelLogits = torch.tensor(new float[] { 0, 60, 0, 0, 0, 60 }).reshape(2, 3);

        double hard = Value(nn.functional.cross_entropy(logits, torch.tensor(new long[] { 1, 2 })));

        Assert.Equal(hard, Value(MatchingLoss.SoftCrossEntropy(logits, labelLogits)), 5);
    }
}
