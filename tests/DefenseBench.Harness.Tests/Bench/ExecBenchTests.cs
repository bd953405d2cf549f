using DefenseBench.Defenses.External;
using DefenseBench.Harness.Bench;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Bench;

public sealed class ExecBenchTests
{
    [Fact]
    public void Bench_exec_times_both_modes_on_the_model_s_gradient()
    {
        var rows = ExecBench.Run(Python.Command(Python.Example("prune.py")), [new ExecParameter("keep", 0.5)], "dlg-lenet", "synthetic-mnist", 2,
            TorchSharp.torch.CPU);
        Assert.Equal(["one process per upload", "persistent"], rows.Select(r => r.Mode));
        Assert.All(rows, r => Assert.True(r.MedianMs > 0 && r.FirstMs > 0 && r.Uploads == 2 && r.Values > 10_000, r.ToString()));
        Assert.Contains("persistent mode saves", ExecBench.Table("prune", "dlg-lenet", rows), StringComparison.Ordinal);
    }
}
