using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Running;

public sealed class ScoringTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Existence_only_attacks_are_scored_on_leacc_alone_and_count_attacks_on_every_label_metric()
    {
        string matrix = _temp.Write("scoring.yaml", """
            name: scoring
            seeds: 1
            blocks:
              - name: s
                dataset: synthetic-cifar100
                model: lenet5
                batch_size: 4
                attacks: [rlg, gi-label, idlg-label, ilrg, ebi]
            """);
        InProcess.Expect(0, "run", matrix, "--out", _temp["out"]);
        var rows = CellsCsv.Read(Path.Combine(_temp["out"], CellsCsv.FileName));

        foreach (var row in rows)
        {
            bool existence = row.Attack is "rlg" or "gi-label" or "idlg-label";
            Assert.NotNull(row.LeAcc);
            Assert.NotNull(row.LeAccRandom);
            Assert.Equal(existence, row.LnAcc == null);
            Assert.Equal(existence, row.Asr == null);
            Assert.Equal(existence, row.IRec == null);
        }
    }
}
