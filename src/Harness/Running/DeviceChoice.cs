using DefenseBench.Core.Components;
using DefenseBench.Core.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Running;

/// <summary>
/// Turns --device auto|cpu|cuda[:N] into a TorchSharp device, failing before any cell runs. `run` turns a failure into
/// exit 2 and `doctor` reports the same message with exit 1.
/// </summary>
public static class DeviceChoice
{
    public static Device Resolve(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        bool cuda = t == "cuda" || t.StartsWith("cuda:", StringComparison.Ordinal);
        if (t != "cpu" && t != "auto" && !cuda) throw new InputException($"--device '{text}' is not a device", "write auto, cpu, cuda or cuda:N");
        // The system backend must find libtorch before TorchSharp's first call (an input error naming the ways if not).
        LibTorch.Require();
        FullFloat32();
        if (t == "cpu") return torch.CPU;
        // auto names the device as `--device cuda` does (cuda:0), so cells.csv and the manifest read alike either way.
        if (t == "auto") return torch.cuda.is_available() ? torch.device(DeviceType.CUDA, 0) : torch.CPU;
        if (!torch.cuda.is_available()) throw NoCuda(text);
        int index = 0;
        if (t.Length > 4 && (!int.TryParse(t[5..], out index) || index < 0 || index >= torch.cuda.device_count()))
            throw new InputException($"--device {text}: there is no such CUDA device ({torch.cuda.device_count()} visible)",
                $"write cuda or cuda:0..cuda:{torch.cuda.device_count() - 1}");
        return torch.device(DeviceType.CUDA, index);
    }

    /// <summary>
    /// Keeps float32 arithmetic float32 on a GPU: libtorch lets cuDNN convolutions round their inputs to TF32 (a 10-bit
    /// mantissa) on Ampere and later GPUs by default. Gradient matching differentiates twice through those convolutions,
    /// so TF32 would move a reconstruction's trajectory and PSNR away from the CPU baseline that serves both devices, and
    /// a cell's seeds solved alone (cuDNN) away from the same seeds solved together (batched matrix products, already
    /// float32). Called wherever a device is chosen; on the CPU the flags change nothing.
    /// </summary>
    public static void FullFloat32()
    {
        torch.backends.cudnn.allow_tf32 = false;
        torch.backends.cuda.matmul.allow_tf32 = false;
    }

    private static InputException NoCuda(string text) => new(
        LibTorch.Backend == "cpu"
            ? $"--device {text}: this build's libtorch is CPU-only (-p:TorchBackend=cpu), so it cannot use a CUDA device"
            : $"--device {text}: libtorch (backend {LibTorch.Backend}) sees no CUDA device",
        "run with --device cpu or auto, or build with -p:TorchBackend=cuda, or -p:TorchBackend=system against a PyTorch with CUDA, " +
        "on a machine with a CUDA GPU (README: Running on a GPU)");
}
