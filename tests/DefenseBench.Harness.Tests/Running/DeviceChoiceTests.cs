using DefenseBench.Harness.Running;
using TorchSharp;

namespace DefenseBench.Harness.Tests.Running;

public sealed class DeviceChoiceTests
{
    /// <summary>
    /// libtorch lets cuDNN round float32 convolutions to TF32 by default; the harness turns that off wherever it chooses a
    /// device, so a GPU cell computes what the CPU baseline computed. The flags are process-wide and settable without a GPU.
    /// </summary>
    [Fact]
    public void Choosing_a_device_keeps_gpu_convolutions_and_matrix_products_in_float32()
    {
        torch.backends.cudnn.allow_tf32 = true;
        torch.backends.cuda.matmul.allow_tf32 = true;

        DeviceChoice.Resolve("cpu");

        Assert.False(torch.backends.cudnn.allow_tf32);
        Assert.False(torch.backends.cuda.matmul.allow_tf32);
    }
}
