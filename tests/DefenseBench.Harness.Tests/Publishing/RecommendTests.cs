using System.Text.Json;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Publishing;

public sealed class RecommendTests : IDisposable
{
    private readonly TempFolder _temp = new();

    /// <summary>Rows of one top-k setting: one LLG row per ASR value (one per seed), with its utility drop and bytes.</summary>
    private static IEnumerable<CellRow> Setting(double keep, double drop, double bytes, params double[] asr) =>
        asr.Select((a, seed) => SampleRows.Ok("llg", "", $"topk(keep={keep},scope=layer,ef=on)", a, seed: seed) with
        {
            CellId = $"k{keep}",
            UtilityDrop = drop,
            UtilityAcc = 0.93 - drop,
            WireBytes = bytes,
        });

    private static IEnumerable<CellRow> None() =>
        Enumerable.Range(0, 3).Select(seed => SampleRows.Ok("llg", "", "none", 1, seed: seed) with { CellId = "none", UtilityDrop = 0, WireBytes = 53704 });

    private string Folder(params IEnumerable<CellRow>[] settings)
    {
        string folder = _temp[$"run{Directory.GetDirectories(_temp.Path).Length}"];
        Directory.CreateDirectory(folder);
        CellsCsv.Write(Path.Combine(folder, CellsCsv.FileName), settings.SelectMany(s => s));
        return folder;
    }

    /// <summary>Top-k from keep 1 to 0.01: leakage falls and the utility drop grows as fewer values are kept.</summary>
    private string Sweep() => Folder(None(),
        Setting(1, 0, 53704, 1, 1, 1),
        Setting(0.5, 0.001, 40000, 0.9, 0.92, 0.88),
        Setting(0.1, 0.006, 10800, 0.6, 0.62, 0.58),
        Setting(0.03, 0.012, 3300, 0.4, 0.42, 0.38),
        Setting(0.01, 0.035, 1100, 0.2, 0.22, 0.18));

    private static JsonElement Answer(CliResult result) => JsonDocument.Parse(result.Stdout).RootElement.GetProperty("answer");

    [Fact]
    public void The_most_compressing_feasible_setting_is_chosen_and_the_binding_limit_named()
    {
        var result = InProcess.Expect(0, "recommend", Sweep(), "--family", "topk", "--max", "asr=0.5", "--max", "utility_drop=0.02");

        Assert.Contains("recommended (compression): topk(keep=0.03,scope=layer,ef=on)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("feasible keep: 0.03", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("topk(keep=0.01,scope=layer,ef=on) does not (utility_drop binds)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("topk(keep=0.1,scope=layer,ef=on) does not (asr binds)", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void The_worst_case_counts_the_attacker_who_knows_the_defence_and_says_it_was_adaptive()
    {
        // dpsgd(clip=1, z=0) blinds the published LLG+ (ASR 0.3) but not the adaptive one (0.95): the limit must fail on
        // the adaptive attacker, and the report must name it as adaptive.
        IEnumerable<CellRow> Llg(string adaptive, double asr) => Enumerable.Range(0, 3).Select(seed =>
            SampleRows.Ok("llg-plus", $"aux_per_class=16,adaptive={adaptive}", "dpsgd(clip=1,z=0)", asr, seed: seed) with { CellId = $"z0{adaptive}", UtilityDrop = 0.001, WireBytes = 53704 });
        IEnumerable<CellRow> Noised(string adaptive, double asr) => Enumerable.Range(0, 3).Select(seed =>
            SampleRows.Ok("llg-plus", $"aux_per_class=16,adaptive={adaptive}", "dpsgd(clip=1,z=1)", asr + 0.01 * seed, seed: seed) with { CellId = $"z1{adaptive}", UtilityDrop = 0.004, WireBytes = 53704 });
        string folder = Folder(Llg("on", 0.95), Llg("off", 0.3), Noised("on", 0.4), Noised("off", 0.2));

        var result = InProcess.Expect(0, "recommend", folder, "--family", "dpsgd", "--max", "asr=0.5", "--prefer", "utility");

        Assert.Contains("no   dpsgd(clip=1,z=0)  asr 0.95 ✗", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("recommended (utility): dpsgd(clip=1,z=1)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("(worst: llg-plus(aux_per_class=16,adaptive=on), adaptive)", result.Stdout, StringComparison.Ordinal);
        var check = DefenseBench.Harness.Publishing.Recommender.Evaluate([.. Noised("on", 0.4), .. Noised("off", 0.2)], DefenseBench.Harness.Publishing.Limit.Parse("asr=0.5"));
        Assert.Equal((true, "llg-plus(aux_per_class=16,adaptive=on)"), (check.WorstAdaptive, check.WorstAttack));
    }

    [Theory]
    [InlineData("compression", 0.03, 0.1)]
    [InlineData("utility", 0.1, 0.5)]
    public void The_suggested_sweep_refines_the_boundary_the_preference_pulls_towards(string prefer, double low, double high)
    {
        // keep=0.1 alone is feasible: keep=0.03 costs too much (more compression lies below), keep=0.5 leaks too much
        // (less utility drop lies above).
        var result = InProcess.Expect(0, "recommend", Sweep(), "--max", "asr=0.7", "--max", "utility_drop=0.01", "--prefer", prefer, "--json");
        var sweep = Answer(result).GetProperty("sweep_values").EnumerateArray().Select(v => v.GetDouble()).ToList();

        Assert.Equal("topk(keep=0.1,scope=layer,ef=on)", Answer(result).GetProperty("chosen").GetProperty("defense").GetString());
        Assert.Equal(4, sweep.Count);
        Assert.All(sweep, v => Assert.InRange(v, low, high));
    }

    [Fact]
    public void Preferring_utility_picks_the_smallest_drop_among_feasible_settings()
    {
        var answer = Answer(InProcess.Expect(0, "recommend", Sweep(), "--max", "asr=0.7", "--max", "utility_drop=0.02", "--prefer", "utility", "--json"));

        Assert.Equal("topk(keep=0.1,scope=layer,ef=on)", answer.GetProperty("chosen").GetProperty("defense").GetString());
    }

    [Fact]
    public void The_upper_end_of_the_interval_not_the_mean_decides()
    {
        // keep=0.1 has the lower mean (0.45 < 0.5) and fewer bytes, but its seeds spread so far that the 95 % upper
        // bound exceeds the limit; keep=0.5 (upper bound 0.487) is tight below it.
        string folder = Folder(None(), Setting(0.1, 0.005, 10800, 0.2, 0.45, 0.7), Setting(0.5, 0.001, 40000, 0.47, 0.475, 0.48));

        var answer = Answer(InProcess.Expect(0, "recommend", folder, "--max", "asr=0.5", "--json"));

        Assert.Equal("topk(keep=0.5,scope=layer,ef=on)", answer.GetProperty("chosen").GetProperty("defense").GetString());
        var loose = answer.GetProperty("candidates").EnumerateArray().Single(c => c.GetProperty("parameter").GetDouble() == 0.1);
        Assert.False(loose.GetProperty("checks")[0].GetProperty("met").GetBoolean());
        Assert.True(loose.GetProperty("checks")[0].GetProperty("mean").GetDouble() < 0.5);
    }

    [Fact]
    public void With_no_feasible_setting_it_exits_1_and_prints_a_matrix_that_sweeps_further_and_loads()
    {
        // Every setting leaks above 0.1; the least leaky is the smallest keep, so the sweep continues below 0.01.
        var result = InProcess.Expect(1, "recommend", Sweep(), "--max", "asr=0.1");

        Assert.Contains("no tested setting meets every limit", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("topk: {keep: [0.00333, 0.00111, 0.00037], scope: layer, ef: on}", result.Stdout, StringComparison.Ordinal);
        string snippet = result.Stdout[result.Stdout.IndexOf("name: ", StringComparison.Ordinal)..result.Stdout.IndexOf("\nplot: ", StringComparison.Ordinal)];
        var matrix = MatrixLoader.Load(_temp.Write("sweep.yaml", snippet));
        Assert.Equal(4, matrix.Cells.Count); // none and three keep values, one attack
    }

    [Fact]
    public void A_sweep_is_never_suggested_outside_what_the_defence_accepts()
    {
        // The largest tested keep leaks least, so the sweep would continue above keep = 1, which top-k rejects.
        string folder = Folder(Setting(0.25, 0.01, 20000, 0.9, 0.91, 0.92), Setting(0.5, 0.005, 40000, 0.8, 0.81, 0.82), Setting(1, 0, 53704, 0.6, 0.61, 0.62));

        var result = InProcess.Expect(1, "recommend", folder, "--max", "asr=0.1");

        Assert.Contains("lie outside what topk accepts for keep", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("blocks:", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_that_differ_in_another_parameter_too_are_flagged()
    {
        string folder = Folder(Setting(0.1, 0.005, 10800, 0.3, 0.31, 0.32),
            Setting(0.5, 0.001, 40000, 0.6, 0.61, 0.62).Select(r => r with { Defense = "topk(keep=0.5,scope=global,ef=on)" }));

        var result = InProcess.Expect(0, "recommend", folder, "--max", "asr=0.5");

        Assert.Contains("note: scope also vary", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void When_the_least_leaky_settings_also_cost_too_much_the_sweep_looks_where_the_cost_starts_to_fail()
    {
        // asr <= 0.1 fails everywhere; keep = 0.01, which leaks least, also breaks utility_drop <= 0.01, so no value below
        // it can help: the sweep refines the gap between 0.1 (cost met) and 0.03 (cost broken).
        var result = InProcess.Expect(1, "recommend", Sweep(), "--max", "asr=0.1", "--max", "utility_drop=0.01", "--json");
        var answer = Answer(result);
        var sweep = answer.GetProperty("sweep_values").EnumerateArray().Select(v => v.GetDouble()).ToList();

        Assert.Contains("the limits conflict", answer.GetProperty("sweep_reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(4, sweep.Count);
        Assert.All(sweep, v => Assert.InRange(v, 0.03, 0.1));
    }

    [Fact]
    public void When_leakage_and_utility_fail_on_either_side_the_sweep_fills_the_gap()
    {
        // keep=0.1 leaks too much, keep=0.03 costs too much: the answer lies between them, if anywhere.
        var result = InProcess.Expect(1, "recommend", Sweep(), "--max", "asr=0.5", "--max", "utility_drop=0.01", "--json");
        var sweep = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("answer").GetProperty("sweep_values").EnumerateArray().Select(v => v.GetDouble()).ToList();

        Assert.Equal(4, sweep.Count);
        Assert.All(sweep, v => Assert.InRange(v, 0.03, 0.1));
    }

    [Fact]
    public void The_plot_marks_the_feasible_region_and_the_limits()
    {
        string folder = Sweep();
        InProcess.Expect(0, "recommend", folder, "--max", "asr=0.5", "--max", "utility_drop=0.02");
        string svg = File.ReadAllText(Path.Combine(folder, "recommend-topk.svg"));

        Assert.Contains("class=\"feasible\"", svg, StringComparison.Ordinal);
        var texts = SampleRows.SvgTexts(Path.Combine(folder, "recommend-topk.svg"));
        Assert.Contains("limit 0.5", texts);
        Assert.Contains("limit 0.02", texts);
        Assert.Contains("0.03 (chosen)", texts);
    }

    [Theory]
    [InlineData("is not a metric", "--max", "leakiness=0.5")]
    [InlineData("out of range", "--max", "asr=1.5")]
    [InlineData("out of range", "--max", "utility_drop=-0.1")]
    [InlineData("no leakage limit", "--max", "utility_drop=0.02")]
    [InlineData("no ok cell of the defence family", "--max", "asr=0.5", "--family", "dpsgd")]
    [InlineData("is not a preference", "--max", "asr=0.5", "--prefer", "speed")]
    public void Bad_arguments_exit_2_and_say_what_to_write(string what, params string[] args)
    {
        var result = InProcess.Expect(2, ["recommend", Sweep(), .. args]);

        Assert.Contains(what, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("write", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_cells_csv_exits_2()
    {
        var result = InProcess.Expect(2, "recommend", _temp.Path, "--max", "asr=0.5");

        Assert.Contains("cells.csv does not exist", result.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
