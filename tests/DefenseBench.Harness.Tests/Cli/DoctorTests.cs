using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Cli;

/// <summary>`doctor` on the test machines: the default CPU backend, which ships its libtorch and has no CUDA.</summary>
public sealed class DoctorTests : IDisposable
{
    private readonly TempFolder _temp = new();

    [Fact]
    public void Doctor_reports_the_cpu_backend_where_libtorch_came_from_and_timed_passes_and_exits_0()
    {
        var doctor = InProcess.Expect(0, "doctor", "--device", "cpu");

        Assert.Matches(@"(?m)^backend +cpu ", doctor.Stdout);
        Assert.Matches(@"(?m)^TorchSharp +0\.\d+", doctor.Stdout);
        Assert.Matches(@"(?m)^libtorch from +/.*/libtorch_cpu\.so \(shipped with the build\)$", doctor.Stdout);
        Assert.Matches(@"(?m)^oneDNN +ONEDNN_MAX_CPU_ISA=\S+", doctor.Stdout);
        Assert.Matches(@"(?m)^CUDA +not available", doctor.Stdout);
        Assert.Matches(@"forward\+backward \d+\.\d+ ms \(fastest \d+\.\d+\), double backward \d+\.\d+ ms \(fastest \d+\.\d+\)", doctor.Stdout);
        Assert.Matches(@"float32 vs float64: largest relative error \S+ \(\S+\); agree", doctor.Stdout);
        Assert.EndsWith("device cpu: works (cpu)\n", doctor.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void Doctor_device_cuda_exits_1_with_the_reason_run_exits_2_with()
    {
        // The test machines' TorchSharp-cpu backend has no CUDA; with a GPU there is no failure to compare.
        if (TorchSharp.torch.cuda.is_available()) return;
        string matrix = Repository.File("matrices", "quick.yaml");

        var doctor = InProcess.Expect(1, "doctor", "--device", "cuda");
        var run = InProcess.Expect(2, "run", matrix, "--out", _temp["out"], "--device", "cuda");

        string reason = doctor.Stderr.Trim()["device cuda: does not work: ".Length..];
        Assert.StartsWith("device cuda: does not work: --device cuda: ", doctor.Stderr, StringComparison.Ordinal);
        Assert.Equal("error: " + reason, run.Stderr.Trim());
        Assert.False(Directory.Exists(_temp["out"]));
    }

    [Fact]
    public void The_libtorch_option_is_ignored_with_a_warning_by_a_build_that_ships_libtorch()
    {
        var doctor = InProcess.Expect(0, "doctor", "--device", "cpu", "--libtorch", _temp.Path);

        Assert.Contains("--libtorch", doctor.Stderr, StringComparison.Ordinal);
        Assert.Contains("is ignored", doctor.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
