using System.Text.RegularExpressions;
using DefenseBench.Core.Metrics;
using DefenseBench.Harness.Bench;
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

    private const string Reconstruction = """
        name: tiny-recon
        seeds: 3
        blocks:
          - name: dlg-b1
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 1
            attacks: [{dlg: {iterations: 2, restarts: 2}}]
            defenses: [none]
        """;

    [Fact]
    public void Bench_matrix_times_a_reconstruction_matrix_batched_and_unbatched_and_prints_the_ratio_and_psnr_differences()
    {
        string matrix = _temp.Write("recon.yaml", Reconstruction);

        var bench = InProcess.Expect(0, "bench", "matrix", matrix, "--device", "cpu", "--compare-batching");

        string text = bench.Stdout;
        Assert.Matches(@"(?m)^tiny-recon on cpu: 3 cell runs in \d+\.\d\d s", text);
        Assert.Matches(@"(?m)^tiny-recon on cpu \(--batch-seeds\): 3 cell runs in \d+\.\d\d s", text);
        var seeds = Regex.Matches(text, @"(?m)^dlg-b1 +dlg\(\S+\) +(\d) +(\d+\.\d\d) +(\d+\.\d\d) +(-?\d+\.\d\d) +within$");
        Assert.Equal(["0", "1", "2"], seeds.Select(m => m.Groups[1].Value));
        Assert.All(seeds, m => Assert.True(Math.Abs(double.Parse(m.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture)) <= 0.5, m.Value));
        var summary = Regex.Match(text, @"(?m)^batched vs unbatched: (\d+\.\d\d) s unbatched, (\d+\.\d\d) s batched = (\d+\.\d\d)x end to end; 3 rows, status equal in 3, label metrics equal in 3, largest PSNR difference (\d+\.\d\d) dB; PSNR within 0\.5 dB in 3, both beyond 8-bit resolution in 0, apart in 0$");
        Assert.True(summary.Success, text);
        double Read(int group) => double.Parse(summary.Groups[group].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(Read(1) / Read(2), Read(3), 0.05 * Read(3) + 0.01);
    }

    [Theory]
    [InlineData(5.0, 5.49, PsnrAgreement.Within)]
    [InlineData(5.0, 5.51, PsnrAgreement.Apart)]
    [InlineData(56.0, 89.0, PsnrAgreement.BeyondEightBits)]
    [InlineData(54.2, 73.5, PsnrAgreement.BeyondEightBits)]
    [InlineData(54.1, 73.5, PsnrAgreement.Apart)]
    [InlineData(30.0, 60.0, PsnrAgreement.Apart)]
    [InlineData(double.PositiveInfinity, double.PositiveInfinity, PsnrAgreement.Within)]
    [InlineData(double.NaN, 5.0, PsnrAgreement.Apart)]
    public void Two_psnrs_agree_when_within_half_a_decibel_or_both_beyond_half_an_8_bit_grey_level(double a, double b, PsnrAgreement expected)
    {
        Assert.Equal(54.1514, ImageMetrics.EightBitPsnr, 4);
        Assert.Equal(expected, MatrixBench.Agree(a, b));
        Assert.Equal(expected, MatrixBench.Agree(b, a));
    }

    [Fact]
    public void A_row_without_a_psnr_in_one_run_does_not_agree() => Assert.Equal(PsnrAgreement.Apart, MatrixBench.Agree(40.0, null));

    [Fact]
    public void Bench_matrix_names_each_failed_cell_and_its_error()
    {
        string matrix = _temp.Write("fails.yaml", FailingMatrix.Yaml);

        var bench = InProcess.Expect(1, "bench", "matrix", matrix, "--device", "cpu");

        Assert.Matches(@"(?m)^fails on cpu: 2 cell runs in \d+\.\d\d s = \d+\.\d cells/s \(1 failed\)$", bench.Stdout);
        var failed = Regex.Match(bench.Stdout, @"(?m)^failed: [0-9a-f]+ seed 0 \(f, llg, (fedavg.*), none\): (.+)$");
        Assert.True(failed.Success, bench.Stdout);
        Assert.False(string.IsNullOrWhiteSpace(failed.Groups[2].Value));
    }

    [Fact]
    public void Bench_matrix_refuses_batch_seeds_beside_compare_batching()
    {
        string matrix = _temp.Write("recon.yaml", Reconstruction);

        var bench = InProcess.Expect(2, "bench", "matrix", matrix, "--device", "cpu", "--compare-batching", "--batch-seeds");

        Assert.Contains("--compare-batching", bench.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
