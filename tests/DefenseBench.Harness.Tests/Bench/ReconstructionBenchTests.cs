using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Bench;

public sealed class ReconstructionBenchTests
{
    [Fact]
    public void The_reconstruction_bench_prints_iterations_per_second_and_the_autograd_share_for_each_attack_and_batch()
    {
        var result = InProcess.Expect(0, "bench", "reconstruction", "--dataset", "synthetic-mnist", "--attack", "dlg", "dlm",
            "--batch", "1", "2", "--steps", "1", "--runs", "1", "--device", "cpu");

        var lines = result.Stdout.Trim().Split('\n');
        Assert.StartsWith("attack    batch  steps  evals  steps/s  evals/s  autograd  psnr", lines[0], StringComparison.Ordinal);
        Assert.Equal(["dlg 1", "dlg 2", "dlm 1", "dlm 2"], lines.Skip(1).Select(l => string.Join(" ", l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(2))));
        Assert.All(lines.Skip(1), l => Assert.Matches(@"\s\d+ %\s+\d+\.\d$", l));
    }
}
