using DefenseBench.Defenses.Privacy;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Running;

/// <summary>One run of a matrix with every new defence and utility training, shared by the tests.</summary>
public sealed class DpRun : IDisposable
{
    public const string Yaml = """
        name: dp-utility
        seeds: 2
        blocks:
          - name: dp
            dataset: synthetic-mnist
            model: fcn3
            batch_size: 4
            clients: 2
            labels: non-iid
            attacks: [llg]
            utility: {clients: 2, rounds: 2, local_steps: 2, batch_size: 8, train_images: 200, test_images: 100}
            defenses:
              - none
              - dpsgd: {clip: 1, z: [0, 1]}
              - dpfedavg: {clip: 1, z: 1}
              - clipnoise: {clip: 10, sigma: 0.1}
              - noise: {scale: 0.1, dist: laplace}
              - topk: {keep: 0.1}
              - pipeline: [{dpsgd: {clip: 1, z: 1}}, {topk: {keep: 0.1}}]
          - name: round-only
            dataset: synthetic-mnist
            model: fcn3
            batch_size: 4
            attacks: [llg]
            defenses: [{dpsgd: {clip: 1, z: 2}}]
        """;

    private readonly TempFolder _temp = new();

    public DpRun()
    {
        string matrix = _temp.Write("dp-utility.yaml", Yaml);
        Result = InProcess.Expect(0, "run", matrix, "--out", Out, "--device", "cpu");
        Rows = CellsCsv.Read(Path.Combine(Out, CellsCsv.FileName));
    }

    public string Out => _temp["out"];
    public CliResult Result { get; }
    public IReadOnlyList<CellRow> Rows { get; }

    public IEnumerable<CellRow> Of(string defense) => Rows.Where(r => r.Defense == defense);

    public void Dispose() => _temp.Dispose();
}

public sealed class UtilityRunTests(DpRun run) : IClassFixture<DpRun>
{
    private const string DpSgd = "dpsgd(clip=1,z=1)";

    [Fact]
    public void Every_new_defence_runs_and_reports_its_utility()
    {
        Assert.Equal((8 + 1) * 2, run.Rows.Count);
        Assert.All(run.Rows, r => Assert.Equal(CellRow.Ok, r.Status));
        Assert.All(run.Rows.Where(r => r.Block == "dp"), r =>
        {
            Assert.InRange(r.UtilityAcc!.Value, 0, 1);
            Assert.NotNull(r.UtilityDrop);
            Assert.NotNull(r.UpdateCosine);
        });
        Assert.All(run.Rows.Where(r => r.Block == "round-only"), r => Assert.Null(r.UtilityAcc));
    }

    [Fact]
    public void The_undefended_training_has_no_drop_and_cosine_one()
    {
        Assert.All(run.Of("none"), r =>
        {
            Assert.Equal(0, r.UtilityDrop);
            Assert.Equal(1, r.UpdateCosine!.Value, 12);
        });
    }

    [Fact]
    public void Each_defence_setting_is_trained_once_and_shared_by_its_seeds()
    {
        Assert.All(run.Rows.Where(r => r.Block == "dp").GroupBy(r => r.Defense), g => Assert.Single(g.Select(r => (r.UtilityAcc, r.UpdateCosine)).Distinct()));
        Assert.Equal(8, run.Result.Stderr.Split('\n').Count(l => l.StartsWith("utility ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Dp_cells_report_epsilon_at_the_default_delta_and_say_what_it_stands_for()
    {
        // Utility training: 2 clients of 100 images, batches of 8, 2 rounds of 2 local steps.
        var expected = RdpAccountant.Epsilon(8.0 / 100, 1.0, 4, 1e-5).Epsilon;
        Assert.All(run.Of(DpSgd), r =>
        {
            Assert.Equal(expected, r.Epsilon!.Value, 12);
            Assert.Equal(1e-5, r.Delta);
            Assert.StartsWith("unit=example;stage=dpsgd(clip=1,z=1);q=0.08;z=1;steps=4;order=", r.Privacy, StringComparison.Ordinal);
        });
        Assert.All(run.Of("dpsgd(clip=1,z=1)>topk(keep=0.1,scope=layer,ef=off)"), r => Assert.Equal(expected, r.Epsilon!.Value, 12));
        Assert.All(run.Of("dpfedavg(clip=1,z=1)"), r => Assert.StartsWith("unit=client;stage=dpfedavg(clip=1,z=1);q=1;z=1;steps=2;", r.Privacy, StringComparison.Ordinal));
        Assert.All(run.Of("clipnoise(clip=10,sigma=0.1)"), r => Assert.StartsWith("unit=client;", r.Privacy, StringComparison.Ordinal));
        Assert.All(run.Of("dpsgd(clip=1,z=0)"), r => Assert.Equal(double.PositiveInfinity, r.Epsilon));
    }

    [Fact]
    public void Defences_without_a_dp_guarantee_leave_epsilon_empty()
    {
        Assert.All(run.Rows.Where(r => r.Defense is "none" or "topk(keep=0.1,scope=layer,ef=off)" or "noise(scale=0.1,dist=laplace)"), r =>
        {
            Assert.Null(r.Epsilon);
            Assert.Null(r.Delta);
            Assert.Equal("", r.Privacy);
        });
    }

    [Fact]
    public void A_training_that_finished_leaves_utility_diverged_empty()
    {
        Assert.All(run.Rows, r => Assert.Null(r.UtilityDiverged));
    }

    [Fact]
    public void Without_utility_training_epsilon_describes_the_attacked_round()
    {
        Assert.All(run.Rows.Where(r => r.Block == "round-only"), r =>
            Assert.Equal(RdpAccountant.Epsilon(1.0, 2.0, 1, 1e-5).Epsilon, r.Epsilon!.Value, 12));
    }

    [Fact]
    public void Sparse_uploads_count_values_and_indices_on_the_wire()
    {
        double dense = run.Of("none").First().WireBytes!.Value;
        double sparse = run.Of("topk(keep=0.1,scope=layer,ef=off)").First().WireBytes!.Value;

        Assert.Equal(4.0 * (784 * 300 + 300 + 300 * 300 + 300 + 300 * 10 + 10), dense);
        Assert.InRange(sparse / dense, 0.19, 0.21);
        Assert.Equal(dense, run.Of(DpSgd).First().WireBytes);
    }

    [Fact]
    public void The_run_draws_a_leakage_versus_utility_plot_as_png_and_svg()
    {
        string plots = Path.Combine(run.Out, "plots");

        Assert.True(File.Exists(Path.Combine(plots, "dp_llg_tradeoff_asr.png")), string.Join(", ", Directory.GetFiles(plots).Select(Path.GetFileName)));
        Assert.True(File.Exists(Path.Combine(plots, "dp_llg_tradeoff_asr.svg")));
    }
}

public sealed class DivergedUtilityTests : IDisposable
{
    private readonly TempFolder _temp = new();

    [Fact]
    public void A_utility_training_driven_to_infinity_names_its_round_in_the_row()
    {
        string matrix = _temp.Write("diverging.yaml", """
            name: diverging
            seeds: 1
            blocks:
              - name: noise
                dataset: synthetic-mnist
                model: fcn3
                batch_size: 4
                attacks: [llg]
                utility: {clients: 2, rounds: 2, local_steps: 1, batch_size: 8, train_images: 100, test_images: 50}
                defenses: [none, {noise: {scale: 1.0e38}}]
            """);
        InProcess.Run("run", matrix, "--out", _temp["out"], "--device", "cpu");
        var rows = CellsCsv.Read(Path.Combine(_temp["out"], CellsCsv.FileName));

        var noisy = Assert.Single(rows, r => r.Defense.StartsWith("noise", StringComparison.Ordinal));
        Assert.Equal(1, noisy.UtilityDiverged);
        Assert.Equal(0, noisy.UtilityAcc);
        Assert.Null(Assert.Single(rows, r => r.Defense == "none").UtilityDiverged);
        Assert.Contains("utility_diverged", File.ReadLines(Path.Combine(_temp["out"], CellsCsv.FileName)).First(), StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
