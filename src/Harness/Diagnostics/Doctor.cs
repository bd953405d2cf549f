using System.Globalization;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;
using DefenseBench.Core.Native;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Running;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Diagnostics;

/// <summary>One device as `doctor` found it: what it is, how fast the probe ran, and why it does not work (null if it does).</summary>
public sealed record DeviceReport(string Id, string Description, ProbeTimes? Times, string? Gradients, string? Problem)
{
    public bool Works => Problem == null;
}

/// <summary>Everything `doctor` found: facts in print order, the devices, and the verdict on the requested device.</summary>
public sealed record DoctorReport(IReadOnlyList<(string Key, string Value)> Facts, IReadOnlyList<DeviceReport> Devices, string Requested,
    string? RequestedId, string? Problem)
{
    /// <summary>The requested device resolved and its checks passed.</summary>
    public bool Works => Problem == null;
}

/// <summary>
/// Checks the installation the way a user's first run would exercise it: which libtorch loaded and from where, whether
/// CUDA is there, and, on every device, a forward/backward pass and a double backward with their times, plus on the
/// CPU the float32-against-float64 gradient check that catches oneDNN's wrong kernels (README, platform notes).
/// </summary>
public static class Doctor
{
    public static DoctorReport Examine(string requested)
    {
        var facts = new List<(string, string)>();
        var (version, commit) = Manifest.BuildInfo();
        facts.Add(("harness", $"defensebench {version}" + (commit is { } c ? $" ({c[..Math.Min(12, c.Length)]})" : "")));
        facts.Add(("backend", LibTorch.Backend + LibTorch.Backend switch
        {
            "cpu" => " (TorchSharp-cpu: a CPU-only libtorch ships with the build)",
            "cuda" => " (TorchSharp-cuda: libtorch with CUDA ships with the build)",
            _ => " (TorchSharp only: libtorch from an installed PyTorch or libtorch)",
        }));
        facts.Add(("oneDNN", $"{OneDnnGuard.Variable}={OneDnnGuard.Ensure()} " +
                              (OneDnnGuard.UserChosen ? "(set by you)" : "(the harness's default: oneDNN's wide kernels give wrong gradients on some CPUs)")));
        // Nothing may touch TorchSharp before this: its first use loads the native libraries (or tries its own fallbacks).
        try
        {
            LibTorch.Require();
            using var scope = torch.NewDisposeScope();
            _ = torch.ones(1).sum().item<float>();
        }
        catch (InputException e)
        {
            facts.Add(("libtorch", "not found"));
            return new DoctorReport(facts, [], requested, null, e.Describe());
        }
        catch (Exception e) when (e is NotSupportedException or TypeInitializationException or DllNotFoundException)
        {
            facts.Add(("libtorch", "did not load"));
            return new DoctorReport(facts, [], requested, null, "libtorch did not load: " + FirstLine(e.InnerException?.Message ?? e.Message));
        }
        facts.Add(("TorchSharp", Manifest.PackageVersions()["TorchSharp"]));
        facts.Add(("libtorch API", $"{torch.__version__} (the libtorch TorchSharp was built for)"));
        facts.Add(("libtorch from", Loaded("torch_cpu")));
        if (LibTorch.LoadedFrom("torch_cpu") is { } path && LibTorch.InstallVersion(Path.GetDirectoryName(path)!) is { } install)
            facts.Add(("install", install));

        var devices = new List<DeviceReport> { Cpu() };
        int cudaDevices = CudaDevices(facts);
        for (int i = 0; i < cudaDevices; i++) devices.Add(Cuda(i));

        try
        {
            var device = DeviceChoice.Resolve(requested);
            facts.Add(("TF32", torch.backends.cudnn.allow_tf32 || torch.backends.cuda.matmul.allow_tf32
                ? "allowed (cuDNN convolutions or cuBLAS matrix products may round float32 inputs to a 10-bit mantissa)"
                : "off: convolutions and matrix products on a GPU stay float32"));
            string id = device.type == DeviceType.CUDA ? $"cuda:{Math.Max(0, device.index)}" : "cpu";
            var report = devices.Single(d => d.Id == id);
            return new DoctorReport(facts, devices, requested, id, report.Problem);
        }
        catch (InputException e)
        {
            return new DoctorReport(facts, devices, requested, null, e.Describe());
        }
    }

    private static string Loaded(string name) => (LibTorch.LoadedFrom(name) ?? "(not visible in /proc/self/maps)") + (LibTorch.Location is { } l
        ? $" (found through {l.Source})"
        : LibTorch.Bundled ? " (shipped with the build)" : "");

    private static int CudaDevices(List<(string, string)> facts)
    {
        try
        {
            if (!torch.cuda.is_available())
            {
                facts.Add(("CUDA", LibTorch.Backend == "cpu" ? "not available (this build's libtorch is CPU-only)" : "not available (libtorch sees no CUDA device)"));
                return 0;
            }
            int count = torch.cuda.device_count();
            facts.Add(("CUDA", $"available: {count} device{(count == 1 ? "" : "s")}, cuDNN {(torch.cuda.is_cudnn_available() ? "yes" : "no")}"));
            facts.Add(("libtorch_cuda from", Loaded("torch_cuda")));
            return count;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            facts.Add(("CUDA", "not available: " + FirstLine(e.Message)));
            return 0;
        }
    }

    private static DeviceReport Cpu()
    {
        string description = $"{HostInfo.Current().Cpu}, {Environment.ProcessorCount} cores" +
                             (ProcMemory.MachineBytes() is { } b ? $", {Gib(b)} memory" : "");
        string? gradients = null, problem = null;
        ProbeTimes? times = null;
        try
        {
            times = DeviceProbe.Run(torch.CPU);
            var deviations = GradientPrecision.Float32AgainstFloat64(DeviceProbe.Model, ImageShape.Mnist, DeviceProbe.BatchSize);
            var worst = deviations.MaxBy(d => d.Relative)!;
            bool agrees = deviations.All(d => d.Agrees);
            gradients = string.Create(CultureInfo.InvariantCulture,
                $"float32 vs float64: largest relative error {worst.Relative:E1} ({worst.Parameter}); {(agrees ? "agree" : "DISAGREE")} (limit {GradientPrecision.Tolerance:E0})");
            if (!agrees)
                problem = $"float32 gradients differ from float64 ones ({worst.Parameter}): oneDNN's kernels are wrong on this CPU; " +
                          $"set {OneDnnGuard.Variable}={OneDnnGuard.SafeLevel} (README, platform notes)";
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            problem = "the probe failed: " + FirstLine(e.Message);
        }
        return new DeviceReport("cpu", description, times, gradients, problem);
    }

    private static DeviceReport Cuda(int index)
    {
        var info = CudaDriver.Describe(index);
        string description = info is { } d ? $"{d.Name}, {Gib(d.TotalBytes)} memory" : "(name and memory not readable from the CUDA driver)";
        try
        {
            return new DeviceReport($"cuda:{index}", description, DeviceProbe.Run(torch.device(DeviceType.CUDA, index)), null, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new DeviceReport($"cuda:{index}", description, null, null, "the probe failed: " + FirstLine(e.Message));
        }
    }

    private static string Gib(long bytes) => (bytes / 1073741824.0).ToString("F1", CultureInfo.InvariantCulture) + " GiB";

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
