using System.Text.Json.Nodes;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Sharding;

/// <summary>`run --shard` folders and `merge` on a three-cell matrix: what a shard holds, and every way a merge refuses.</summary>
public sealed class ShardMergeTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private const string Tiny = """
        name: tiny-shards
        seeds: 2
        blocks:
          - name: sweep
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 4
            labels: non-iid
            attacks: [llg]
            defenses:
              - none
              - topk: {keep: [1.0, 0.5]}
        """;

    private string Matrix => _temp.Write("tiny.yaml", Tiny);

    /// <summary>Runs every shard of <paramref name="count"/> into shards/i and returns the folder that holds them.</summary>
    private string RunShards(string matrix, int count, string folder = "shards")
    {
        for (int i = 0; i < count; i++)
            InProcess.Expect(0, "run", matrix, "--out", Path.Combine(_temp[folder], $"{i}"), "--device", "cpu", "--shard", $"{i}/{count}");
        return _temp[folder];
    }

    [Fact]
    public void A_shard_that_gets_no_cell_is_a_valid_folder_and_the_merge_equals_the_unsharded_run()
    {
        string matrix = Matrix;
        InProcess.Expect(0, "run", matrix, "--out", _temp["whole"], "--device", "cpu");
        string shards = RunShards(matrix, 4);
        string empty = Directory.GetDirectories(shards).Single(d => CellsCsv.Read(Path.Combine(d, CellsCsv.FileName)).Count == 0);

        var manifest = Manifest.TryLoad(empty)!;
        Assert.Equal(0, manifest.Shard!.Cells);
        Assert.NotNull(manifest.Finished);
        Assert.StartsWith("cell_id,", File.ReadAllText(Path.Combine(empty, CellsCsv.FileName)), StringComparison.Ordinal);

        var merge = InProcess.Expect(0, "merge", shards, "--out", _temp["merged"]);

        Assert.Contains("merged 4 shard folders", merge.Stdout, StringComparison.Ordinal);
        SameResults.Assert(_temp["whole"], _temp["merged"], matrix);
        var merged = Manifest.TryLoad(_temp["merged"])!;
        Assert.Null(merged.Shard);
        Assert.Equal(4, merged.MergedFrom!.Count);
        Assert.Equal(3, merged.Cells);
        Assert.NotNull(merged.SuiteSha256);
        Assert.Equal(Manifest.TryLoad(_temp["whole"])!.SuiteSha256, merged.SuiteSha256);
    }

    [Fact]
    public void Merge_joins_the_reconstruction_grids_of_every_shard_and_indexes_them()
    {
        string matrix = _temp.Write("pictures.yaml", """
            name: pictures
            seeds: 2
            blocks:
              - name: dlg
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: 1
                labels: iid
                attacks: [{dlg: {iterations: 1}}, {idlg: {iterations: 1}}]
                defenses: [none]
            """);
        InProcess.Expect(0, "run", matrix, "--out", _temp["whole"], "--device", "cpu");
        string shards = RunShards(matrix, 2);
        Assert.All(Directory.GetDirectories(shards), d => Assert.Equal(2, Directory.GetFiles(Path.Combine(d, "images"), "*.png").Length));

        var merge = InProcess.Expect(0, "merge", shards, "--out", _temp["merged"]);

        Assert.Contains("reconstructions: ", merge.Stdout, StringComparison.Ordinal);
        Assert.Equal(4, Directory.GetFiles(Path.Combine(_temp["merged"], "images"), "*.png").Length);
        foreach (string file in Directory.GetFiles(Path.Combine(_temp["whole"], "images")).Select(f => Path.GetFileName(f)))
            Assert.True(File.ReadAllBytes(Path.Combine(_temp["whole"], "images", file)).SequenceEqual(File.ReadAllBytes(Path.Combine(_temp["merged"], "images", file))),
                $"images/{file} differs from the unsharded run's");
    }

    [Fact]
    public void Merge_into_a_folder_that_holds_a_run_keeps_that_run_as_prev()
    {
        InProcess.Expect(0, "run", Matrix, "--out", _temp["a"], "--device", "cpu", "--shard", "0/2");
        InProcess.Expect(0, "run", Matrix, "--out", _temp["b"], "--device", "cpu", "--shard", "1/2");
        InProcess.Expect(0, "merge", _temp["a"], _temp["b"], "--out", _temp["merged"]);
        string cells = Path.Combine(_temp["merged"], CellsCsv.FileName);
        File.AppendAllText(cells, "# a mark only the earlier file has\n");
        string before = File.ReadAllText(cells);

        var again = InProcess.Expect(0, "merge", _temp["a"], _temp["b"], "--out", _temp["merged"]);

        Assert.Equal(before, File.ReadAllText(Path.Combine(_temp["merged"], "cells.prev.csv")));
        Assert.DoesNotContain("a mark", File.ReadAllText(cells), StringComparison.Ordinal);
        Assert.Contains("held an earlier run", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_refuses_shards_of_different_matrices()
    {
        string matrix = Matrix;
        string other = _temp.Write("other.yaml", Tiny.Replace("batch_size: 4", "batch_size: 5", StringComparison.Ordinal));
        InProcess.Expect(0, "run", matrix, "--out", _temp["a"], "--device", "cpu", "--shard", "0/2");
        InProcess.Expect(0, "run", other, "--out", _temp["b"], "--device", "cpu", "--shard", "1/2");

        var merge = InProcess.Expect(2, "merge", _temp["a"], _temp["b"], "--out", _temp["merged"]);

        Assert.Contains("different matrices", merge.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp["merged"]));
    }

    [Theory]
    [InlineData("harness_version", "9.9.9", "different harness versions")]
    [InlineData("git_commit", "0123456789abcdef", "different harness versions")]
    [InlineData("finished", null, "has not finished")]
    public void Merge_refuses_a_shard_whose_manifest_does_not_match_or_did_not_finish(string field, string? value, string reason)
    {
        string shards = RunShards(Matrix, 2);
        RunCopies.EditManifest(Path.Combine(shards, "1"), json => json[field] = value);

        var merge = InProcess.Expect(2, "merge", shards, "--out", _temp["merged"]);

        Assert.Contains(reason, merge.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_refuses_a_missing_shard_and_names_it()
    {
        string shards = RunShards(Matrix, 3);

        var merge = InProcess.Expect(2, "merge", Path.Combine(shards, "0"), Path.Combine(shards, "2"), "--out", _temp["merged"]);

        Assert.Contains("1/3 missing", merge.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_refuses_a_shard_given_twice()
    {
        string shards = RunShards(Matrix, 2);
        string copy = _temp["copy-of-1"];
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.GetFiles(Path.Combine(shards, "1"))) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));

        var merge = InProcess.Expect(2, "merge", shards, copy, "--out", _temp["merged"]);

        Assert.Contains("there twice", merge.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_refuses_when_the_matrix_file_changed_since_the_shards_ran()
    {
        string matrix = Matrix;
        string shards = RunShards(matrix, 2);
        File.AppendAllText(matrix, "# edited\n");

        var merge = InProcess.Expect(2, "merge", shards, "--out", _temp["merged"]);

        Assert.Contains("has changed since", merge.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Resuming_a_shard_folder_as_another_shard_exits_2()
    {
        string matrix = Matrix;
        InProcess.Expect(0, "run", matrix, "--out", _temp["s"], "--device", "cpu", "--shard", "0/2");

        var run = InProcess.Expect(2, "run", matrix, "--out", _temp["s"], "--device", "cpu", "--shard", "1/2", "--resume");

        Assert.Contains("holds shard 0/2, not shard 1/2", run.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
