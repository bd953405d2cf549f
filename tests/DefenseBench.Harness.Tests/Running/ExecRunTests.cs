using System.Security.Cryptography;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Running;

/// <summary>
/// Exec defences through the whole harness (`run` on small cells): a Python program that changes nothing scores as no
/// defence, a Python top-k as the built-in one, the NumPy examples run in both modes, and a failing program fails only
/// its own cells.
/// </summary>
public sealed class ExecRunTests : IDisposable
{
    private readonly TempFolder _temp = new();

    /// <summary>Label attacks whose scores move under top-k at batch 8, and a short FedAvg training for the utility columns.</summary>
    private static string Matrix(string name, string defenses) => $"""
        name: {name}
        seeds: 2
        blocks:
          - name: exec
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 8
            labels: non-iid
            attacks: [llg, ilrg, rlg, idlg-label]
            utility: {"{"}clients: 2, rounds: 2, local_steps: 1, batch_size: 8, train_images: 64, test_images: 64{"}"}
            defenses:
        {defenses}
        """;

    private (CliResult Result, IReadOnlyList<CellRow> Rows, string Out) Run(string name, string defenses, int expectedExit = 0)
    {
        string matrix = _temp.Write($"{name}.yaml", Matrix(name, defenses));
        string output = _temp[$"{name}-out"];
        var result = InProcess.Expect(expectedExit, "run", matrix, "--out", output, "--device", "cpu");
        return (result, CellsCsv.Read(Path.Combine(output, CellsCsv.FileName)), output);
    }

    private static string Exec(string command, string name, string parameters, bool persistent) =>
        $"      - exec: {{command: '{command}', name: {name}, params: {{{parameters}}}, persistent: {(persistent ? "on" : "off")}}}";

    /// <summary>Every metric column of the rows of <paramref name="defense"/>, by attack and seed.</summary>
    private static Dictionary<(string, int), double?[]> Metrics(IReadOnlyList<CellRow> rows, string defense, Func<MetricSpec, bool> which) =>
        rows.Where(r => r.Defense == defense).ToDictionary(r => (r.Attack, r.Seed), r =>
        {
            Assert.True(r.Status == CellRow.Ok, $"{r.Attack} {r.Defense} seed {r.Seed}: {r.Status} {r.Error}");
            return Harness.Results.Metrics.All.Where(which).Select(m => m.Read(r)).ToArray();
        });

    private static void SameMetrics(IReadOnlyList<CellRow> rows, string expected, string actual, Func<MetricSpec, bool> which)
    {
        var want = Metrics(rows, expected, which);
        var got = Metrics(rows, actual, which);
        Assert.Equal(8, want.Count);
        Assert.Equal(want.Keys.Order(), got.Keys.Order());
        var names = Harness.Results.Metrics.All.Where(which).Select(m => m.Name).ToArray();
        foreach (var (key, values) in want)
            for (int i = 0; i < names.Length; i++)
                Assert.True(Equals(values[i], got[key][i]), $"{key} {names[i]}: {expected} gave {values[i]}, {actual} gave {got[key][i]}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_python_defence_that_copies_its_input_gives_every_metric_of_none_exactly(bool persistent)
    {
        var (_, rows, _) = Run("identity", "      - none\n" + Exec(Python.Command(Python.Fixture("identity.py")), "identity", "", persistent));
        Assert.Contains(rows, r => r.UtilityAcc != null);
        SameMetrics(rows, "none", "exec(name=identity)", _ => true);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_python_layer_top_k_gives_the_metrics_of_the_built_in_top_k_exactly(bool persistent)
    {
        var (_, rows, _) = Run("topk", "      - none\n      - topk: {keep: 0.01, scope: layer, ef: off}\n" +
                                       Exec(Python.Command(Python.Fixture("topk.py")), "topk", "keep: 0.01", persistent));
        // Bytes on the wire differ by design: the harness sends the built-in top-k sparse and cannot know a program's
        // answer is meant to be; every other metric must match.
        bool scored(MetricSpec m) => m != Harness.Results.Metrics.WireBytes;
        SameMetrics(rows, "topk(keep=0.01,scope=layer,ef=off)", "exec(name=topk,keep=0.01)", scored);
        Assert.NotEqual(Metrics(rows, "none", scored).Values.SelectMany(v => v), Metrics(rows, "exec(name=topk,keep=0.01)", scored).Values.SelectMany(v => v));
    }

    [Fact]
    public void The_numpy_examples_run_in_both_modes_and_the_manifest_names_their_code()
    {
        string prune = Python.Example("prune.py"), quantize = Python.Example("quantize.py");
        var (_, rows, output) = Run("examples", string.Join('\n',
            Exec(Python.Command(prune), "prune", "keep: [0.1, 0.5]", persistent: false),
            Exec(Python.Command(quantize), "qsgd", "levels: 2", persistent: true)));
        Assert.Equal(["exec(name=prune,keep=0.1)", "exec(name=prune,keep=0.5)", "exec(name=qsgd,levels=2)"], rows.Select(r => r.Defense).Distinct().Order(StringComparer.Ordinal));
        Assert.All(rows, r => Assert.True(r.Status == CellRow.Ok, $"{r.Defense} {r.Attack}: {r.Error}"));
        Assert.All(rows, r => Assert.InRange(r.UpdateCosine!.Value, -1, 0.9999));

        var recorded = Manifest.TryLoad(output)!.ExecDefenses;
        Assert.Equal(["prune", "qsgd"], recorded.Select(e => e.Name));
        Assert.Equal(Python.Command(prune), recorded[0].Command);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(prune))), recorded[0].Files[$"{prune}"]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(quantize))), recorded[1].Files[$"{quantize}"]);
    }

    [Fact]
    public void A_failing_program_fails_its_own_cells_with_its_stderr_and_the_run_goes_on()
    {
        var (result, rows, _) = Run("failing", "      - none\n" + Exec(Python.Command(Python.Fixture("misbehave.py"), "exit"), "broken", "", persistent: false),
            expectedExit: 1);
        Assert.All(rows.Where(r => r.Defense == "none"), r => Assert.Equal(CellRow.Ok, r.Status));
        var failed = rows.Where(r => r.Defense == "exec(name=broken)").ToArray();
        Assert.Equal(8, failed.Length);
        Assert.All(failed, r =>
        {
            Assert.Equal(CellRow.Failed, r.Status);
            Assert.Contains("exited with status 3; stderr ends: misbehave: giving up on purpose", r.Error, StringComparison.Ordinal);
        });
        Assert.Contains("failed", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
