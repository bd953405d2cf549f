using DefenseBench.Core.Components;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Running;

/// <summary>Turns --device auto|cpu|cuda[:N] into a TorchSharp device, failing before any cell runs.</summary>
public static class DeviceChoice
{
    public static Device Resolve(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return torch.CPU;
        if (t == "auto") return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (t == "cuda" || t.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new InputException($"--device {text}: TorchSharp sees no CUDA device (backend {Results.Manifest.Backend()})",
                    "run with --device cpu or auto, or build with -p:TorchBackend=cuda or system on a machine with a CUDA GPU (README: Running on a GPU)");
            int index = 0;
            if (t.Length > 4 && (!int.TryParse(t[5..], out index) || index < 0 || index >= torch.cuda.device_count()))
                throw new InputException($"--device {text}: there is no such CUDA device ({torch.cuda.device_count()} visible)",
                    $"write cuda or cuda:0..cuda:{torch.cuda.device_count() - 1}");
            return torch.device(DeviceType.CUDA, index);
        }
        throw new InputException($"--device '{text}' is not a device", "write auto, cpu, cuda or cuda:N");
    }
}
