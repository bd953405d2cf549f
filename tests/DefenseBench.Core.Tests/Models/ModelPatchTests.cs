using DefenseBench.Core.Data;
using DefenseBench.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Tests.Models;

public sealed class ModelPatchTests
{
    private static Classifier Model() => ModelCatalog.Create("lenet5-bn", ImageShape.Mnist, 10, 1, torch.CPU);

    private static Tensor Inputs() => torch.rand(ImageShape.Mnist.BatchDims(3), generator: new Generator(2, torch.CPU));

    [Fact]
    public void A_patch_changes_the_model_until_it_is_disposed()
    {
        using var scope = torch.NewDisposeScope();
        var model = Model();
        model.eval();
        var before = model.forward(Inputs());
        var patch = new ModelPatch(new Dictionary<string, Tensor> { ["fc.bias"] = torch.full(10, 3.0f), ["bn.running_var"] = torch.full(84, 4.0f) });

        using (patch.ApplyTo(model))
        {
            Assert.False(torch.allclose(before, model.forward(Inputs())));
            Assert.Equal(3.0f, model.Fc.bias![0].item<float>());
        }

        Assert.True(model.forward(Inputs()).eq(before).all().item<bool>());
        Assert.Equal(1.0f, model.state_dict()["bn.running_var"][0].item<float>());
    }

    [Fact]
    public void A_patch_naming_what_the_model_lacks_is_rejected()
    {
        using var scope = torch.NewDisposeScope();
        var model = Model();

        Assert.Throws<ArgumentException>(() => new ModelPatch(new Dictionary<string, Tensor> { ["bn2.weight"] = torch.zeros(84) }).ApplyTo(model));
        Assert.Throws<ArgumentException>(() => new ModelPatch(new Dictionary<string, Tensor> { ["bn.weight"] = torch.zeros(10) }).ApplyTo(model));
    }
}
