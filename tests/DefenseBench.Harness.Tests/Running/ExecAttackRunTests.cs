using System.Security.Cryptography;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Running;

/// <summary>
/// Exec attacks through the whole harness (`run` on small cells): the NumPy row-sum example scores exactly as the
/// built-in idlg-label it mirrors, on each upload and on a secure aggregate; a need the view cannot meet is
/// not-applicable; a program that answers out of schema fails only its own cells.
/// </summary>
public sealed class ExecAttackRunTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private static string Matrix(string name, string attacks, string defenses) => $"""
        name: {name}
        seeds: 2
        blocks:
          - name: exec
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 8
            clients: 2
            labels: non-iid
            attacks:
        {attacks}
            defenses: [{defenses}]
        """;

    private (CliResult Result, IReadOnlyList<CellRow> Rows, string Out) Run(string name, string attacks, string defenses = "none", int expectedExit = 0)
    {
        string matrix = _temp.Write($"{name}.yaml", Matrix(name, attacks, defenses));
        string output = _temp[$"{name}-out"];
        var result = InProcess.Expect(expectedExit, "run", matrix, "--out", output, "--device", "cpu");
        return (result, CellsCsv.Read(Path.Combine(output, CellsCsv.FileName)), output);
    }

    private static string Exec(string command, string name, string needs) =>
        $"      - exec: {{command: '{command}', name: {name}, needs: [{needs}]}}";

    /// <summary>Every metric column of the rows of one attack (id and parameters) under one defence, by seed.</summary>
    private static Dictionary<int, double?[]> Metrics(IReadOnlyList<CellRow> rows, string attack, string parameters, string defense) =>
        rows.Where(r => r.Attack == attack && r.AttackParams == parameters && r.Defense == defense).ToDictionary(r => r.Seed, r =>
        {
            Assert.True(r.Status == CellRow.Ok, $"{r.Attack}({r.AttackParams}) {r.Defense} seed {r.Seed}: {r.Status} {r.Error}");
            return Harness.Results.Metrics.All.Select(m => m.Read(r)).ToArray();
        });

    private static void SameMetrics(IReadOnlyList<CellRow> rows, string execParameters, string defense)
    {
        var want = Metrics(rows, "idlg-label", "", defense);
        var got = Metrics(rows, "exec", execParameters, defense);
        Assert.Equal(2, want.Count);
        Assert.Equal(want.Keys.Order(), got.Keys.Order());
        var names = Harness.Results.Metrics.All.Select(m => m.Name).ToArray();
        foreach (var (seed, values) in want)
            for (int i = 0; i < names.Length; i++)
                Assert.True(Equals(values[i], got[seed][i]), $"{defense} seed {seed} {names[i]}: idlg-label gave {values[i]}, exec({execParameters}) gave {got[seed][i]}");
        Assert.Contains(want.Values, v => v.Any(x => x != null));
    }

    [Fact]
    public void The_numpy_row_sum_example_gives_the_metrics_of_idlg_label_exactly_and_the_manifest_names_its_code()
    {
        string script = Repository.File("examples", "attacks", "rowsum_label.py");
        string command = Python.Command(script);
        var (_, rows, output) = Run("rowsum", string.Join('\n', "      - idlg-label",
            Exec(command, "rowsum", "individual-updates"), Exec(command, "rowsum-any", "")), "none, secagg");

        SameMetrics(rows, "name=rowsum", "none");
        SameMetrics(rows, "name=rowsum-any", "none");
        // Under secure aggregation the program reads the aggregate, as the built-in does; one that needs each upload cannot run.
        string secagg = rows.First(r => r.Defense.StartsWith("secagg", StringComparison.Ordinal)).Defense;
        SameMetrics(rows, "name=rowsum-any", secagg);
        Assert.All(rows.Where(r => r.AttackParams == "name=rowsum" && r.Defense == secagg), r =>
        {
            Assert.Equal(CellRow.NotApplicable, r.Status);
            Assert.Contains("exec(name=rowsum) needs individual uploads", r.Error, StringComparison.Ordinal);
        });

        var recorded = Manifest.TryLoad(output)!;
        Assert.Empty(recorded.ExecDefenses);
        Assert.Equal(["rowsum", "rowsum-any"], recorded.ExecAttacks.Select(e => e.Name));
        Assert.Equal(command, recorded.ExecAttacks[0].Command);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(script))), recorded.ExecAttacks[0].Files[script]);
    }

    [Fact]
    public void Images_alone_are_scored_by_psnr()
    {
        var (_, rows, _) = Run("images", Exec(Python.Command(Python.Fixture("attack_misbehave.py"), "images"), "gray", ""));
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.True(r.Status == CellRow.Ok, r.Error);
            Assert.NotNull(r.Psnr);
            Assert.Null(r.LeAcc);
        });
    }

    [Fact]
    public void The_view_holds_each_upload_the_model_sent_and_the_public_metadata()
    {
        // The file exists before the run: the matrix refuses a command naming a path that does not.
        string log = _temp.Write("view.json", "");
        string entry = $"      - exec: {{command: '{Python.Command(Python.Fixture("attack_misbehave.py"), "log", $"\"{log}\"")}', name: logger, needs: [known-classes, fc-bias], params: {{t: 0.5, mode: fast}}}}";
        var (_, rows, _) = Run("view", entry, "{topk: {keep: 0.1}}");
        Assert.All(rows, r => Assert.True(r.Status == CellRow.Ok, r.Error));
        Assert.All(rows, r => Assert.NotNull(r.LnAcc));

        using var view = System.Text.Json.JsonDocument.Parse(File.ReadAllText(log));
        var tensors = view.RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetString()).ToArray();
        Assert.Contains("model.fc.weight", tensors);
        Assert.Contains("upload.0.fc.weight", tensors);
        Assert.Contains("upload.1.fc.bias", tensors);
        Assert.DoesNotContain(tensors, t => t!.StartsWith("aggregate.", StringComparison.Ordinal));
        var metadata = view.RootElement.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal("[0,1]", metadata["targets"]);
        Assert.Equal("[8,8]", metadata["target_batch_sizes"]);
        Assert.Equal("10", metadata["num_classes"]);
        Assert.Equal("[1,28,28]", metadata["image_shape"]);
        Assert.Equal("fedsgd", metadata["protocol"]);
        Assert.Equal("gradient", metadata["kind"]);
        Assert.Equal("topk(keep=0.1,scope=layer,ef=off)", metadata["defense"]);
        Assert.Equal("exec(name=logger,mode=fast,t=0.5)", metadata["attack"]);
        Assert.Equal("""{"t":0.5,"mode":"fast"}""", metadata["params"]);
        Assert.Equal(("fc.weight", "fc.bias"), (metadata["fc_weight"], metadata["fc_bias"]));
        Assert.StartsWith("{\"0\":[", metadata["known_classes"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage", "OUT.json is not JSON")]
    [InlineData("length", "OUT.json counts of target 0 has 9 entries; the model has 10 classes")]
    [InlineData("negative", "OUT.json counts of target 0: class 2 has -1; counts are non-negative integers")]
    [InlineData("fraction", "OUT.json counts of target 0: class 2 has 0.5; counts are non-negative integers")]
    [InlineData("target", "OUT.json names target 99, which the view does not hold")]
    [InlineData("huge", "OUT.json is ")]
    [InlineData("shape", "OUT.safetensors gives 'images.0' the shape [1, 1, 29, 28]; images are [N, 1, 28, 28]")]
    [InlineData("nan", "OUT.safetensors has a NaN or infinite value in 'images.0' (entry 0)")]
    [InlineData("exit", "exited with status 4; stderr ends: attack_misbehave: giving up on purpose")]
    public void A_hostile_answer_fails_only_its_own_cells_and_the_run_goes_on(string mode, string message)
    {
        var (_, rows, _) = Run(mode, "      - idlg-label\n" + Exec(Python.Command(Python.Fixture("attack_misbehave.py"), mode), "hostile", ""), expectedExit: 1);
        Assert.All(rows.Where(r => r.Attack == "idlg-label"), r => Assert.Equal(CellRow.Ok, r.Status));
        var failed = rows.Where(r => r.Attack == "exec").ToArray();
        Assert.Equal(2, failed.Length);
        Assert.All(failed, r =>
        {
            Assert.Equal(CellRow.Failed, r.Status);
            Assert.StartsWith("ExecAttackException: exec(name=hostile): ", r.Error, StringComparison.Ordinal);
            Assert.Contains(message, r.Error, StringComparison.Ordinal);
        });
    }

    public void Dispose() => _temp.Dispose();
}
