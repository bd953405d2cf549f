using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Tests.Results;

/// <summary>The metric table is the single description of every metric column: these check it against the row it describes.</summary>
public sealed class MetricsTests
{
    [Fact]
    public void Each_metric_reads_and_writes_its_own_column_and_no_other()
    {
        var values = Metrics.All.Select((m, i) => (Metric: m, Value: 0.125 + i)).ToList();
        var row = values.Aggregate(new CellRow(), (r, p) => p.Metric.Write(r, p.Value));
        foreach (var (metric, value) in values)
        {
            Assert.Equal(value, metric.Read(row));
            Assert.Equal(value, row.Metric(metric.Name));
        }
    }

    [Fact]
    public void Names_are_unique_and_companions_point_at_random_guess_columns()
    {
        Assert.Equal(Metrics.All.Count, Metrics.All.Select(m => m.Name).Distinct().Count());
        foreach (var metric in Metrics.All.Where(m => m.RandomGuess != null))
        {
            var companion = Metrics.Find(metric.RandomGuess!);
            Assert.NotNull(companion);
            Assert.True(companion.IsRandomGuess, $"{metric.Name}'s companion {companion.Name} is not marked as a random guess");
            Assert.Equal(metric.Kind, companion.Kind);
        }
        Assert.All(Metrics.All, m => Assert.True(m.Low < m.High, $"{m.Name}: empty range"));
        Assert.Null(Metrics.Find("attack_ms"));
    }

    [Fact]
    public void The_csv_header_lists_the_metrics_in_table_order()
    {
        string path = Path.GetTempFileName();
        try
        {
            CellsCsv.Write(path, [new CellRow { CellId = "c", Status = CellRow.Ok }]);
            var header = File.ReadLines(path).First().Split(',');
            var positions = Metrics.All.Select(m => Array.IndexOf(header, m.Name)).ToArray();
            Assert.DoesNotContain(-1, positions);
            Assert.Equal(positions.Order(), positions);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
