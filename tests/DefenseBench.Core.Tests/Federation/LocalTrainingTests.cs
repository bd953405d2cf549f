using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;

namespace DefenseBench.Core.Tests.Federation;

public sealed class LocalTrainingTests
{
    private static (Classifier Model, Batch Batch) Setup(int batchSize = 8, string modelId = "dlg-lenet", string datasetId = "synthetic-mnist")
    {
        // ResNet-18 pools adaptively, so 8×8 images keep its tests cheap.
        var dataset = datasetId == "tiny" ? new SyntheticImages("tiny", new ImageShape(3, 8, 8), 10, 20, 2) : DatasetCatalog.Open(datasetId);
        var model = ModelCatalog.Create(modelId, dataset.Shape, 10, 1, torch.CPU);
        var rng = new Rng(3);
        var labels = Enumerable.Range(0, batchSize).Select(_ => rng.NextInt(10)).ToArray();
        return (model, VictimRound.LoadBatch(dataset, labels, rng, torch.CPU));
    }

    [Fact]
    public void One_fedavg_step_uploads_the_learning_rate_times_the_gradient()
    {
        using var scope = torch.NewDisposeScope();
        var (model, batch) = Setup();
        var gradient = LocalTraining.Gradient(model, batch);
        var delta = LocalTraining.Compute(model, new FedAvg(1, 0.05), [batch]);
        Assert.Equal(UpdateKind.WeightDelta, delta.Kind);
        foreach (var name in gradient.Names)
            Assert.True(torch.allclose(delta[name], gradient[name] * 0.05, rtol: 1e-4, atol: 1e-7), name);
    }

    [Fact]
    public void Fedavg_leaves_the_sent_model_unchanged()
    {
        using var scope = torch.NewDisposeScope();
        var (model, batch) = Setup();
        var before = model.parameters().Select(p => p.detach().clone()).ToArray();
        LocalTraining.Compute(model, new FedAvg(3, 0.1), [batch, batch, batch]);
        foreach (var (a, b) in before.Zip(model.parameters()))
            Assert.True(a.eq(b).all().item<bool>());
    }

    [Theory]
    [InlineData("lenet5", "synthetic-cifar10", 96, 32)]
    [InlineData("lenet5", "synthetic-cifar10", 100, 32)]
    [InlineData("resnet18", "tiny", 10, 3)]
    public void The_chunked_gradient_equals_the_full_batch_mean_gradient_in_eval_mode(string modelId, string datasetId, int batchSize, int chunk)
    {
        using var scope = torch.NewDisposeScope();
        var (model, batch) = Setup(batchSize, modelId, datasetId);
        model.eval();

        var full = LocalTraining.Gradient(model, batch, maxChunk: batchSize);
        var chunked = LocalTraining.Gradient(model, batch, maxChunk: chunk);

        foreach (var name in full.Names)
        {
            double error = (full[name] - chunked[name]).norm().item<float>(), size = full[name].norm().item<float>();
            Assert.True(error <= 1e-5 * size + 1e-9, $"{name}: relative error {error / size:E2}");
        }
    }

    [Fact]
    public void Batch_norm_models_in_train_mode_are_not_chunked_because_batch_statistics_enter_the_gradient()
    {
        using var scope = torch.NewDisposeScope();
        var (model, batch) = Setup(10, "resnet18", "tiny");
        model.train();

        var full = LocalTraining.Gradient(model, batch, maxChunk: 10);
        var asked = LocalTraining.Gradient(model, batch, maxChunk: 3);
        model.eval();
        var evalMode = LocalTraining.Gradient(model, batch, maxChunk: 10);

        Assert.True(full.IdenticalTo(asked));
        Assert.False(full.IdenticalTo(evalMode));
    }

    [Fact]
    public void A_local_gradient_rule_replaces_autograd_in_every_fedavg_step()
    {
        using var scope = torch.NewDisposeScope();
        var (model, batch) = Setup();
        int calls = 0;
        LocalGradient ones = (_, parameters, _) =>
        {
            calls++;
            return parameters.Select(p => torch.ones_like(p)).ToArray();
        };

        var delta = LocalTraining.Compute(model, new FedAvg(3, 0.1), [batch, batch, batch], ones);

        Assert.Equal(3, calls);
        foreach (var t in delta.Tensors) Assert.True(torch.allclose(t, torch.full_like(t, 0.3), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void The_fedsgd_upload_is_what_the_local_gradient_rule_returns()
    {
        using var scope = torch.NewDisposeScope();
        var (model, batch) = Setup();

        var upload = LocalTraining.Compute(model, new FedSgd(), [batch], (_, parameters, _) => parameters.Select(p => torch.zeros_like(p)).ToArray());

        Assert.Equal(UpdateKind.Gradient, upload.Kind);
        Assert.Equal(model.ParameterNames, upload.Names);
        Assert.All(upload.Tensors, t => Assert.Equal(0, t.abs().sum().item<float>()));
    }
}
