using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Defenses;
using DefenseBench.Defenses.Compression;
using DefenseBench.Defenses.SecureAggregation;
using DefenseBench.Harness.Utility;
using TorchSharp;

namespace DefenseBench.Harness.Tests.Utility;

public sealed class WireSizeTests
{
    private static Update Upload() => new(UpdateKind.Gradient, [("fc.weight", torch.ones(10, 30)), ("fc.bias", torch.zeros(10))]);

    [Fact]
    public void A_plain_upload_sends_four_bytes_per_value()
    {
        using var scope = torch.NewDisposeScope();

        Assert.Equal(4 * 310, WireSize.Bytes(Upload(), DefensePipeline.None, 5));
    }

    [Fact]
    public void Under_secure_aggregation_a_client_sends_every_value_masked_plus_the_protocols_messages()
    {
        using var scope = torch.NewDisposeScope();
        var secagg = DefenseCatalog.SecAgg(null, 0.5, 40, 16, 8, 8, 0, DropoutRound.Any);
        var pipeline = new DefensePipeline([DefenseCatalog.TopK(0.1, TopKScope.Layer, false)], secagg);

        long bytes = WireSize.Bytes(Upload(), pipeline, 5);

        // 310 values and the FedAvg weight as 5-byte residues (R = 2^40), zeros included: top-k's sparsity is masked away.
        Assert.Equal(SecAggWire.ClientBytes(311, 4, Modulus.PowerOfTwo(40)), bytes);
        Assert.True(bytes > 5 * 311);
    }
}
