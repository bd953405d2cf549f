using DefenseBench.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Tests.Models;

/// <summary>CountedBatchNorm computes what TorchSharp's BatchNorm1d and BatchNorm2d compute, in train and eval mode.</summary>
public sealed class CountedBatchNormTests
{
    public static TheoryData<bool> Dimensions => new(true, false);

    [Theory]
    [MemberData(nameof(Dimensions))]
    public void Outputs_running_statistics_count_and_state_dict_equal_torchsharps_batch_norm(bool twoD)
    {
        using var scope = torch.NewDisposeScope();
        var ours = twoD ? CountedBatchNorm.Over2d(3) : CountedBatchNorm.Over1d(3);
        torch.nn.Module<Tensor, Tensor> theirs = twoD ? torch.nn.BatchNorm2d(3) : torch.nn.BatchNorm1d(3);
        using var generator = new Generator(5, torch.CPU);
        long[] shape = twoD ? [4, 3, 5, 5] : [4, 3];
        using (torch.no_grad())
        {
            ours.weight!.copy_(torch.rand(3, generator: generator));
            ours.bias!.copy_(torch.randn(3, generator: generator));
            var state = theirs.state_dict();
            state["weight"].copy_(ours.weight);
            state["bias"].copy_(ours.bias);
        }
        Assert.Equal(theirs.state_dict().Keys.Order(), ours.state_dict().Keys.Order());

        for (int step = 0; step < 3; step++)
        {
            var x = torch.randn(shape, generator: generator);
            Assert.Equal(theirs.call(x).data<float>().ToArray(), ours.call(x).data<float>().ToArray());
        }
        foreach (var (name, value) in theirs.state_dict()) // running mean and variance, count, weight, bias
            Assert.Equal(value.to(ScalarType.Float64).data<double>().ToArray(), ours.state_dict()[name].to(ScalarType.Float64).data<double>().ToArray());
        Assert.Equal(3L, ours.num_batches_tracked!.item<long>());

        ours.eval();
        theirs.eval();
        var test = torch.randn(shape, generator: generator);
        Assert.Equal(theirs.call(test).data<float>().ToArray(), ours.call(test).data<float>().ToArray());
        Assert.Equal(3L, ours.num_batches_tracked!.item<long>());
        Assert.Throws<ArgumentException>(() => ours.call(torch.zeros(twoD ? [2, 3] : [2, 3, 4, 4])));
    }
}
