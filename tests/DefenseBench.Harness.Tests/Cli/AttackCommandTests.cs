using System.Text.Json;
using DefenseBench.Attacks.Common;
using DefenseBench.Core.Federation;
using DefenseBench.Harness.Audit;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Tests.Cli;

/// <summary>`attack NAME --update FILE`: auditing a captured update, checked against the cells that exported it.</summary>
public sealed class AttackCommandTests : IClassFixture<AttackCommandTests.ExportedRun>, IDisposable
{
    private readonly ExportedRun _run;
    private readonly TempFolder _temp = new();

    public AttackCommandTests(ExportedRun run) => _run = run;

    public void Dispose() => _temp.Dispose();

    /// <summary>One small run with --export-updates, shared by the tests: per-client and FedAvg uploads, defended or not.</summary>
    public sealed class ExportedRun : IDisposable
    {
        private readonly TempFolder _folder = new();

        public ExportedRun()
        {
            string matrix = _folder.Write("audit.yaml", """
                name: audit
                seeds: 2
                dataset: synthetic-cifar100
                model: lenet5
                mode: eval
                blocks:
                  - name: fedsgd
                    batch_size: 16
                    clients: 2
                    attacks: [ilrg, {ilrg: {sum_to_batch: on}}, idlg-label, gi-label, rlg, ebi, llg]
                    defenses: [none, {topk: {keep: 0.5, scope: last-layer}}]
                  - name: fedavg
                    batch_size: 8
                    protocol: {fedavg: {steps: 2, lr: 0.01}}
                    attacks: [ilrg, llg]
                """);
            InProcess.Expect(0, "run", matrix, "--out", Results, "--export-updates", Exports);
        }

        public string Results => _folder["results"];
        public string Exports => _folder["exports"];

        public void Dispose() => _folder.Dispose();
    }

    private static JsonElement Audit(params string[] args)
    {
        var result = InProcess.Expect(0, ["attack", .. args]);
        return JsonDocument.Parse(result.Stdout).RootElement;
    }

    private static int[] Counts(JsonElement json) => json.GetProperty("counts").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>An exported update of an undefended FedSGD cell of <paramref name="attack"/>.</summary>
    private string AnExport(string attack) => Directory.GetFiles(_run.Exports).Order().First(f =>
        SafeTensorsFile.Read(f).Metadata is var m && m["attack"] == attack && m["defense"] == "none" && m["steps"] == "1");

    [Fact]
    public void Auditing_every_exported_update_returns_the_counts_of_the_cell_that_exported_it()
    {
        var files = Directory.GetFiles(_run.Exports, "*.safetensors");
        var rows = CellsCsv.Read(Path.Combine(_run.Results, CellsCsv.FileName));
        // 14 fedsgd cells x 2 seeds x 2 clients + 2 fedavg cells x 2 seeds x 1 client.
        Assert.Equal(60, files.Length);
        foreach (string file in files)
        {
            var metadata = SafeTensorsFile.Read(file).Metadata;
            string canonical = metadata["attack"];
            int open = canonical.IndexOf('(');
            string id = open < 0 ? canonical : canonical[..open];
            string[] parameters = open < 0 ? [] : canonical[(open + 1)..^1].Split(',').SelectMany(p => new[] { "--param", p }).ToArray();

            var json = Audit([id, "--update", file, .. parameters]);

            Assert.Equal(metadata[UpdateExport.RecoveredCountsKey], string.Join(",", Counts(json)));
            Assert.Contains(rows, r => r.CellId == metadata["cell_id"] && r.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture) == metadata["seed"]);
        }
    }

    [Fact]
    public void The_json_names_the_present_classes_and_what_the_attack_recovers()
    {
        var ilrg = Audit("ilrg", "--update", AnExport("ilrg(sum_to_batch=off)"));
        var rlg = Audit("rlg", "--update", AnExport("rlg"));

        Assert.Equal("counts", ilrg.GetProperty("recovers").GetString());
        Assert.Equal(Counts(ilrg).Select((n, c) => (n, c)).Where(p => p.n > 0).Select(p => p.c),
            ilrg.GetProperty("present").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(100, ilrg.GetProperty("num_classes").GetInt32());
        Assert.Equal("existence", rlg.GetProperty("recovers").GetString());
    }

    [Fact]
    public void A_float64_file_with_other_tensor_names_and_the_batch_size_given_as_an_option_gives_the_same_counts()
    {
        string source = AnExport("ilrg(sum_to_batch=off)");
        var original = SafeTensorsFile.Read(source);
        string copy = _temp["renamed.safetensors"];
        using (var scope = torch.NewDisposeScope())
            SafeTensorsFile.Write(copy, original.Tensors.Select(t => ("layer4." + t.Name, t.ToTensor(torch.CPU).to(ScalarType.Float64))));

        var json = Audit("ilrg", "--update", copy, "--batch-size", original.Metadata["batch_size"], "--weight", "layer4.fc.weight", "--bias", "layer4.fc.bias",
            "--weight-grad", "layer4.grad.fc.weight", "--bias-grad", "layer4.grad.fc.bias");

        Assert.Equal(original.Metadata[UpdateExport.RecoveredCountsKey], string.Join(",", Counts(json)));
    }

    [Fact]
    public void Simplified_ilrg_takes_the_known_classes_from_the_command_line()
    {
        var full = Audit("ilrg", "--update", AnExport("ilrg(sum_to_batch=off)"));
        string present = string.Join(",", full.GetProperty("present").EnumerateArray().Select(e => e.GetInt32()));

        var simplified = Audit("ilrg-sim", "--update", AnExport("ilrg(sum_to_batch=off)"), "--classes", present);
        var subset = Audit("ilrg-sim", "--update", AnExport("ilrg(sum_to_batch=off)"), "--classes", present.Split(',')[0]);

        Assert.Equal(Counts(full), Counts(simplified));
        Assert.Equal([int.Parse(present.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture)],
            subset.GetProperty("present").EnumerateArray().Select(e => e.GetInt32()));
        InProcess.Expect(2, "attack", "ilrg-sim", "--update", AnExport("ilrg(sum_to_batch=off)"));
    }

    [Theory]
    [InlineData("truncated", "is truncated")]
    [InlineData("no-bias-gradient", "has no tensor 'grad.fc.bias'")]
    [InlineData("wrong-shape", "tensor 'fc.weight' has shape [100, 83], expected [100, 84]")]
    [InlineData("no-batch-size", "does not say the batch size")]
    [InlineData("wrong-classes", "the update is for 10 classes")]
    public void A_bad_update_file_exits_2_naming_what_is_wrong(string kind, string message)
    {
        string source = AnExport("ilrg(sum_to_batch=off)");
        var file = SafeTensorsFile.Read(source);
        string bad = _temp["bad.safetensors"];
        using (var scope = torch.NewDisposeScope())
        {
            var tensors = file.Tensors.Select(t => (t.Name, Value: t.ToTensor(torch.CPU)));
            var metadata = file.Metadata.ToDictionary();
            switch (kind)
            {
                case "truncated": File.WriteAllBytes(bad, File.ReadAllBytes(source)[..^100]); break;
                case "no-bias-gradient": SafeTensorsFile.Write(bad, tensors.Where(t => t.Name != "grad.fc.bias"), metadata); break;
                case "wrong-shape": SafeTensorsFile.Write(bad, tensors.Select(t => t.Name == "fc.weight" ? (t.Name, t.Value.narrow(1, 0, 83)) : t), metadata); break;
                case "no-batch-size": SafeTensorsFile.Write(bad, tensors, metadata.Where(m => m.Key != "batch_size").ToDictionary()); break;
                default: metadata["num_classes"] = "10"; SafeTensorsFile.Write(bad, tensors, metadata); break;
            }
        }

        var result = InProcess.Expect(2, "attack", "ilrg", "--update", bad);

        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("bad.safetensors", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("llg-plus", "needs the whole model")]
    [InlineData("ilrgg", "did you mean 'ilrg'")]
    public void An_attack_that_cannot_audit_a_file_exits_2_and_lists_those_that_can(string attack, string message)
    {
        var result = InProcess.Expect(2, "attack", attack, "--update", AnExport("llg"));

        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("ilrg, ilrg-sim, idlg-label, gi-label, rlg, ebi", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_attack_parameter_is_checked_against_the_attacks_parameters()
    {
        var result = InProcess.Expect(2, "attack", "ilrg", "--update", AnExport("llg"), "--param", "sum_to_batch=maybe");

        Assert.Contains("sum_to_batch", result.Stderr, StringComparison.Ordinal);
    }
}
