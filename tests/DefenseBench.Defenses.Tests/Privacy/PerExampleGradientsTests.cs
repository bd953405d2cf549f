using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Defenses.Tests.Privacy;

public sealed class PerExampleGradientsTests
{
    internal static (Classifier Model, Batch Batch) Setup(string model, string dataset, int batchSize, ulong seed = 3)
    {
        var data = DatasetCatalog.Open(dataset);
        var classifier = ModelCatalog.Create(model, data.Shape, data.NumClasses, (long)seed, torch.CPU);
        var rng = new Rng(seed);
        var labels = Enumerable.Range(0, batchSize).Select(_ => rng.NextInt(data.NumClasses)).ToArray();
        return (classifier, VictimRound.LoadBatch(data, labels, rng, torch.CPU));
    }

    /// <summary>Example k's own gradient by one autograd pass on the batch of that example alone.</summary>
    private static Tensor[] Single(Classifier model, Batch batch, int k) =>
        LocalTraining.MeanLossGradient(model, model.parameters().ToArray(), new Batch(batch.Images.narrow(0, k, 1), batch.Labels.narrow(0, k, 1)));

    [Theory]
    [InlineData("dlg-lenet", "synthetic-mnist")]
    [InlineData("lenet5", "synthetic-cifar10")]
    [InlineData("fcn3", "synthetic-mnist")]
    public void Each_example_gets_the_gradient_of_its_own_loss(string model, string dataset)
    {
        using var scope = torch.NewDisposeScope();
        var (classifier, batch) = Setup(model, dataset, 5);
        var parameters = classifier.parameters().ToArray();

        var perExample = PerExampleGradients.Compute(classifier, parameters, batch).Single();

        for (int k = 0; k < 5; k++)
        {
            var expected = Single(classifier, batch, k);
            for (int p = 0; p < parameters.Length; p++)
            {
                Assert.Equal([5, .. parameters[p].shape], perExample[p].shape);
                Assert.True(torch.allclose(perExample[p][k], expected[p], rtol: 1e-4, atol: 1e-6),
                    $"{classifier.ParameterNames[p]} of example {k}: max difference {(perExample[p][k] - expected[p]).abs().max().item<float>()}");
            }
        }
    }

    [Fact]
    public void The_clipped_sum_with_a_huge_clip_is_the_batch_size_times_the_mean_gradient()
    {
        using var scope = torch.NewDisposeScope();
        var (classifier, batch) = Setup("dlg-lenet", "synthetic-mnist", 16);
        var parameters = classifier.parameters().ToArray();

        var sum = PerExampleGradients.ClippedSum(classifier, parameters, batch, 1e12);
        var mean = LocalTraining.MeanLossGradient(classifier, parameters, batch);

        for (int p = 0; p < parameters.Length; p++)
            Assert.True(torch.allclose(sum[p] / 16, mean[p], rtol: 1e-4, atol: 1e-6), classifier.ParameterNames[p]);
    }

    [Fact]
    public void Clipping_bounds_every_examples_contribution_by_the_clip_norm()
    {
        var rng = new Rng(17);
        for (int trial = 0; trial < 6; trial++)
        {
            using var scope = torch.NewDisposeScope();
            string model = trial % 2 == 0 ? "dlg-lenet" : "fcn3";
            var (classifier, batch) = Setup(model, "synthetic-mnist", 4, seed: (ulong)(100 + trial));
            var parameters = classifier.parameters().ToArray();
            double clip = Math.Pow(10, rng.Uniform(-2, 1.5));

            for (int k = 0; k < 4; k++)
            {
                var one = new Batch(batch.Images.narrow(0, k, 1), batch.Labels.narrow(0, k, 1));
                var clipped = PerExampleGradients.ClippedSum(classifier, parameters, one, clip);
                double norm = TestUpdates.Norm(clipped);
                double raw = TestUpdates.Norm(Single(classifier, batch, k));
                Assert.True(norm <= clip * (1 + 1e-5), $"{model}, clip {clip}, example {k}: clipped norm {norm} > clip");
                Assert.Equal(Math.Min(raw, clip), norm, Math.Max(1e-4 * clip, 1e-4 * raw));
            }
        }
    }

    [Fact]
    public void A_batch_split_into_chunks_gives_the_same_clipped_sum()
    {
        using var scope = torch.NewDisposeScope();
        var (classifier, batch) = Setup("dlg-lenet", "synthetic-mnist", 10, seed: 5);
        var parameters = classifier.parameters().ToArray();

        var whole = PerExampleGradients.ClippedSum(classifier, parameters, batch, 1.0);
        var chunked = PerExampleGradients.ClippedSum(classifier, parameters, batch, 1.0, chunkSize: 3);

        Assert.Equal(4, PerExampleGradients.Compute(classifier, parameters, batch, chunkSize: 3).Count());
        for (int p = 0; p < parameters.Length; p++)
            Assert.True(torch.allclose(whole[p], chunked[p], rtol: 1e-5, atol: 1e-6), classifier.ParameterNames[p]);
    }

    /// <summary>A model with a layer the per-example rules do not know.</summary>
    private sealed class WithBatchNorm : Classifier
    {
        private readonly TorchSharp.Modules.BatchNorm1d _bn = nn.BatchNorm1d(784);
        private readonly TorchSharp.Modules.Linear _fc = nn.Linear(784, 10);

        public WithBatchNorm() : base(nameof(WithBatchNorm), 10) => RegisterComponents();

        public override TorchSharp.Modules.Linear Fc => _fc;
        public override bool HasBatchNorm => true;
        public override Tensor Embed(Tensor x) => _bn.call(x.flatten(1));
        public override void Initialize(Generator generator) { }
    }

    [Fact]
    public void A_batch_norm_model_is_not_applicable_rather_than_silently_wrong()
    {
        using var scope = torch.NewDisposeScope();
        var (_, batch) = Setup("fcn3", "synthetic-mnist", 4);
        var model = new WithBatchNorm();
        var parameters = model.parameters().ToArray();

        model.train();
        Assert.Contains("batch norm", Assert.Throws<NotApplicableException>(() => PerExampleGradients.Compute(model, parameters, batch).ToList()).Message);
        model.eval();
        Assert.Contains("_bn.weight", Assert.Throws<NotApplicableException>(() => PerExampleGradients.Compute(model, parameters, batch).ToList()).Message);
    }
}
