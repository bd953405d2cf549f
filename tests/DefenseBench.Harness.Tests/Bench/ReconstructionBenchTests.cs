using System.Globalization;
using DefenseBench.Harness.Cli;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Bench;

public sealed class ReconstructionBenchTests
{
    [Fact]
    public void The_reconstruction_bench_prints_problem_steps_per_second_the_speedup_and_the_autograd_share_for_each_attack_batch_and_problem_count()
    {
        var result = InProcess.Expect(0, "bench", "reconstruction", "--dataset", "synthetic-mnist", "--attack", "dlg", "dlm",
            "--batch", "1", "2", "--problems", "1", "3", "--steps", "1", "--runs", "1", "--device", "cpu");

        var lines = result.Stdout.Trim().Split('\n');
        Assert.StartsWith("attack    batch  problems  steps  evals  problem-steps/s  evals/s  speedup  autograd  psnr", lines[0], StringComparison.Ordinal);
        Assert.Equal(["dlg 1 1", "dlg 1 3", "dlg 2 1", "dlg 2 3", "dlm 1 1", "dlm 1 3", "dlm 2 1", "dlm 2 3"],
            lines.Skip(1).Select(l => string.Join(" ", l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(3))));
        // P = 1 is its own reference: speedup 1.00.
        Assert.All(lines.Skip(1).Where((_, i) => i % 2 == 0), l => Assert.Equal("1.00", l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[7]));
        Assert.All(lines.Skip(1), l => Assert.Matches(@"\s\d+ %\s+\d+\.\d$", l));
    }

    [Fact]
    public void Each_row_is_flushed_as_soon_as_it_is_measured_so_a_time_limit_keeps_the_finished_rows()
    {
        using var stdout = new FlushRecorder();
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);

        int code = CommandLine.Invoke(["bench", "reconstruction", "--dataset", "synthetic-mnist", "--attack", "dlg", "--batch", "1",
            "--problems", "1", "2", "--steps", "1", "--runs", "1", "--device", "cpu"], stdout, stderr);

        Assert.True(code == 0, stderr.ToString());
        // What the output held at each flush, in lines: the header alone, then one row more each time.
        Assert.Equal([1, 2, 3], stdout.Flushed.Select(text => text.Trim().Split('\n').Length).Distinct());
    }

    private sealed class FlushRecorder() : StringWriter(CultureInfo.InvariantCulture)
    {
        public List<string> Flushed { get; } = [];

        public override void Flush() => Flushed.Add(ToString());
    }
}
