using DefenseBench.Core.Components;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Results;

public sealed class CellsCsvTests : IDisposable
{
    private readonly TempFolder _temp = new();

    /// <summary>The columns the README's CSV contract requires, in its spelling; they may never be renamed.</summary>
    public static readonly string[] RequiredColumns =
    [
        "cell_id", "attack", "defense", "dataset", "model", "batch_size", "num_classes", "clients", "seed", "status", "error",
        "leacc", "lnacc", "irec", "asr", "psnr", "ssim", "mse", "utility_acc", "utility_drop", "update_cosine", "epsilon", "delta",
        "attack_ms",
    ];

    private static CellRow Row(int seed, string status = CellRow.Ok, string error = "") => new()
    {
        CellId = "0123456789ab",
        Block = "llg-vs-topk",
        Attack = "llg-plus",
        AttackParams = "repeats=10,aux_per_class=16,estimator=batched",
        Defense = "topk(keep=0.1,scope=layer,ef=off)>topk(keep=0.5,scope=last-layer,ef=on)",
        Dataset = "synthetic-mnist",
        Model = "dlg-lenet",
        BatchSize = 64,
        NumClasses = 10,
        Labels = "non-iid",
        Clients = 1,
        Protocol = "fedavg(steps=4,lr=0.01)",
        Stage = "untrained",
        Mode = "train",
        Seed = seed,
        Status = status,
        Error = error,
        Asr = status == CellRow.Ok ? 0.1 + seed / 3.0 : null,
        AsrRandom = status == CellRow.Ok ? 1e-17 : null,
        LeAcc = status == CellRow.Ok ? 0.3 : null,
        LnAcc = status == CellRow.Ok ? 1.0 / 3.0 : null,
        IRec = status == CellRow.Ok ? 0 : null,
        Epsilon = status == CellRow.Ok ? double.PositiveInfinity : null,
        AttackMs = 12.345678901234567,
        Device = "cpu",
        Extras = "impact=1.25;offset=-0.5",
    };

    [Fact]
    public void Rows_written_and_read_back_are_equal()
    {
        string path = _temp["cells.csv"];
        CellRow[] rows =
        [
            Row(0),
            Row(1),
            Row(2, CellRow.Failed, "ExternalException: value, with \"quotes\",\nand a newline\r\nand more"),
            Row(3, CellRow.NotApplicable, "llg needs individual uploads; secagg shows only the sum"),
        ];

        CellsCsv.Write(path, rows);
        var read = CellsCsv.Read(path, out bool truncated);

        Assert.False(truncated);
        Assert.Equal(rows, read);
    }

    [Fact]
    public void Metrics_that_do_not_apply_stay_null()
    {
        string path = _temp["cells.csv"];
        CellsCsv.Write(path, [Row(0, CellRow.Failed, "boom")]);

        var row = Assert.Single(CellsCsv.Read(path));

        Assert.All(CellRow.MetricColumns, m => Assert.Null(row.Metric(m)));
        Assert.Null(row.Psnr);
        Assert.Equal(12.345678901234567, row.AttackMs);
    }

    [Fact]
    public void Rows_appended_one_by_one_read_back_like_rows_written_at_once()
    {
        string appended = _temp["appended.csv"], written = _temp["written.csv"];
        CellRow[] rows = [Row(0), Row(1, CellRow.Failed, "a, \"b\"\nc")];

        using (var appender = CellsCsv.Append(appended)) appender.Write(rows[0]);
        using (var appender = CellsCsv.Append(appended)) appender.Write(rows[1]);
        CellsCsv.Write(written, rows);

        Assert.Equal(File.ReadAllText(written), File.ReadAllText(appended));
        Assert.Equal(rows, CellsCsv.Read(appended));
    }

    [Fact]
    public void The_header_has_every_column_that_the_design_requires_in_its_spelling()
    {
        string path = _temp["cells.csv"];
        CellsCsv.Write(path, []);

        string[] header = File.ReadAllLines(path)[0].Split(',');

        Assert.All(RequiredColumns, c => Assert.Contains(c, header));
        Assert.Equal(header.Length, header.Distinct().Count());
        Assert.All(CellRow.MetricColumns, c => Assert.Contains(c, header));
    }

    [Fact]
    public void A_file_whose_last_line_was_cut_off_reads_the_complete_rows_and_reports_truncation()
    {
        string path = _temp["cells.csv"];
        CellsCsv.Write(path, [Row(0), Row(1), Row(2)]);
        string text = File.ReadAllText(path);
        File.WriteAllText(path, text[..(text.Length - 25)]);

        var rows = CellsCsv.Read(path, out bool truncated);

        Assert.True(truncated);
        Assert.Equal([Row(0), Row(1)], rows);
    }

    [Fact]
    public void A_file_cut_right_after_the_header_reads_no_rows_and_reports_truncation()
    {
        string path = _temp["cells.csv"];
        CellsCsv.Write(path, [Row(0)]);
        string text = File.ReadAllText(path);
        File.WriteAllText(path, text[..(text.IndexOf('\n', StringComparison.Ordinal) + 10)]);

        Assert.Empty(CellsCsv.Read(path, out bool truncated));
        Assert.True(truncated);
    }

    [Fact]
    public void Columns_are_matched_by_header_name_so_added_and_reordered_columns_still_read()
    {
        string path = _temp["cells.csv"];
        var plain = Row(4) with { AttackParams = "", Defense = "none", Protocol = "fedsgd", Extras = "" };
        CellsCsv.Write(path, [plain]);
        var lines = File.ReadAllLines(path).Select(l => l.Split(',')).ToArray();
        Assert.All(lines, l => Assert.Equal(lines[0].Length, l.Length));
        // Columns in reverse order, with a column this version does not know in front.
        File.WriteAllLines(path, lines.Select((l, i) => string.Join(",", l.Reverse().Prepend(i == 0 ? "future_column" : "x"))));

        Assert.Equal(plain, Assert.Single(CellsCsv.Read(path)));
    }

    [Fact]
    public void A_row_that_cannot_be_read_is_an_input_error_naming_its_line()
    {
        string path = _temp["cells.csv"];
        CellsCsv.Write(path, [Row(0), Row(1), Row(3)]);
        string asr = Row(1).Asr!.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllText(path, File.ReadAllText(path).Replace("," + asr + ",", ",not-a-number,", StringComparison.Ordinal));

        var error = Assert.Throws<InputException>(() => CellsCsv.Read(path));

        Assert.Equal(3, error.Line);
        Assert.Equal(path, error.File);
        Assert.Contains("row 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_without_a_column_that_this_version_reads_is_an_input_error_at_line_1()
    {
        string path = _temp["cells.csv"];
        File.WriteAllText(path, "cell_id,seed,status,defense,asr\nabcdefabcdef,0,ok,none,0.5\n");

        var error = Assert.Throws<InputException>(() => CellsCsv.Read(path));

        Assert.Equal(1, error.Line);
        Assert.Contains("attack", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_from_an_older_version_without_some_metric_columns_still_loads()
    {
        string path = _temp["cells.csv"];
        File.WriteAllText(path, "cell_id,attack,defense,seed,status,asr\nabcdefabcdef,llg,none,0,ok,0.5\n");

        var row = Assert.Single(CellsCsv.Read(path));

        Assert.Equal(0.5, row.Asr);
        Assert.Null(row.LnAcc);
        Assert.Equal("", row.Extras);
    }

    [Fact]
    public void A_missing_file_is_an_input_error()
    {
        var error = Assert.Throws<InputException>(() => CellsCsv.Read(_temp["nothing-here.csv"]));
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
