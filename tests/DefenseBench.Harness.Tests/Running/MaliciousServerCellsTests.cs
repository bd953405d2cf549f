using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Running;

/// <summary>Malicious-server and secure-aggregation cells beside honest ones, run through the CLI.</summary>
public sealed class MaliciousServerCellsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private const string Scenario = """
            dataset: synthetic-mnist
            model: lenet5-bn
            batch_size: 6
            labels: non-iid
            clients: 3
        """;

    private IReadOnlyList<CellRow> Run(string name, string attacks, string defenses, string extraBlock = "")
    {
        string path = _temp.Write($"{name}.yaml", $"""
            name: {name}
            seeds: 2
            blocks:
              - name: main
            {Scenario}
                attacks: {attacks}
                defenses: {defenses}
            {extraBlock}
            """);
        string output = _temp[name];
        InProcess.Expect(0, "run", path, "--out", output, "--device", "cpu");
        return CellsCsv.Read(Path.Combine(output, CellsCsv.FileName));
    }

    [Fact]
    public void Fishing_and_llg_run_and_score_through_secure_aggregation_and_fishing_reports_its_limit()
    {
        var rows = Run("malicious", "[llg, fishing]", "[none, {secagg: {max_weight: 6}}, {secagg-plus: {degree: 2, max_weight: 6}}]", """
              - name: limit
                dataset: synthetic-mnist
                model: lenet5-bn
                batch_size: 1
                clients: 86
                attacks: [fishing]
                defenses: [{secagg: {}}]
            """);

        var main = rows.Where(r => r.Block == "main").ToArray();
        Assert.Equal(2 * 3 * 2, main.Length);
        Assert.All(main, r => Assert.Equal(CellRow.Ok, r.Status));
        Assert.All(main.Where(r => r.Attack == "fishing"), r =>
        {
            Assert.Equal(1.0, r.LnAcc);
            Assert.Equal(1.0, r.LeAcc);
            Assert.Contains("condition=", r.Extras, StringComparison.Ordinal);
        });
        // LLG on the aggregate is scored against the sum of the clients' counts.
        Assert.All(main.Where(r => r.Attack == "llg"), r => Assert.NotNull(r.LnAcc));
        var limit = rows.Where(r => r.Block == "limit").ToArray();
        Assert.Equal(2, limit.Length);
        Assert.All(limit, r =>
        {
            Assert.Equal(CellRow.NotApplicable, r.Status);
            Assert.Equal("fishing separates at most d + 1 = 85 clients (embedding size d = 84); this scenario has 86", r.Error);
        });
    }

    [Fact]
    public void A_fishing_cell_leaves_the_shared_victims_unchanged_for_the_honest_cells()
    {
        var alone = Run("honest", "[llg]", "[none]");
        var beside = Run("beside", "[fishing, llg]", "[none]");

        var llg = beside.Where(r => r.Attack == "llg").OrderBy(r => r.Seed).ToArray();
        Assert.Equal(alone.OrderBy(r => r.Seed).Select(r => (r.CellId, r.Asr, r.LnAcc, r.LeAcc)), llg.Select(r => (r.CellId, r.Asr, r.LnAcc, r.LeAcc)));
    }

    public void Dispose() => _temp.Dispose();
}
