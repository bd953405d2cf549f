using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;

namespace DefenseBench.Core.Tests.Federation;

public sealed class LocalTrainingTests
{
    private static (Classifier Model, Batch Batch) Setup(int batchSize = 8)
    {
        var dataset = DatasetCatalog.Open("synthetic-mnist");
        var model = ModelCatalog.Create("dlg-lenet", dataset.Shape, 10, 1, torch.CPU);
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
