using System.Text.RegularExpressions;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Bench;

public sealed class MatrixBenchTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private const string Tiny = """
        name: tiny-bench
        seeds: 2
        blocks:
          - name: timed
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: [2, 3]
            labels: non-iid
            attacks: [llg, {llg-plus: {aux_per_class: 2, repeats: 1}}]
            defenses: [none, {topk: {keep: 0.5}}]
        """;

    [Fact]
    public void Bench_matrix_times_each_block_and_attack_and_samples_memory_as_asked()
    {
        string matrix = _temp.Write("tiny.yaml", Tiny);

        var bench = InProcess.Expect(0, "bench", "matrix", matrix, "--device", "cpu", "--memory-every", "4");

        string text = bench.Stdout;
        Assert.Matches(@"^tiny-bench on cpu: 16 cell runs in \d+\.\d\d s = \d+\.\d cells/s \(0 failed\)", text);
        Assert.Matches(@"(?m)^timed +llg +8 +\d+\.\d\d +\d+\.\d +\d+\.\d\d +\d+\.\d\d$", text);
        Assert.Matches(@"(?m)^timed +llg-plus\(repeats=1,aux_per_class=2,estimator=batched,scaling=sum,adaptive=on\) +8 ", text);
        Assert.Matches(@"(?m)^peak memory: process RSS high-water \(VmHWM\) \d+ MiB, managed heap peak \d+ MiB, GPU in use \(driver\) -$", text);
        var samples = Regex.Matches(text, @"(?m)^ +(\d+) +\d+ +\d+ +\d+ +-$").Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal([4, 8, 12, 16], samples);
    }

    public void Dispose() => _temp.Dispose();
}
