using System.Diagnostics;
using System.Runtime.Versioning;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Deploy;

/// <summary>
/// Runs deploy/slurm as Slurm would, without Slurm: each array task is the batch script run by bash with the variables
/// Slurm sets (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT), then the merge script; submit.sh is run against a
/// stand-in sbatch that records what it was asked to queue.
/// </summary>
[Collection(QuickRunCollection.Name)]
[UnsupportedOSPlatform("windows")] // Slurm scripts are bash; the stand-in sbatch is made executable the Unix way
public sealed class SlurmArrayTests(QuickRun quick) : IDisposable
{
    // A guard against a hung script, not a timing: a shard of the quick matrix takes well under a minute on an idle
    // 2-core machine, but several minutes when the machine is shared with other test processes.
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(10);
    private readonly TempFolder _temp = new();

    private static string Script(string name) => Repository.File("deploy", "slurm", name);

    private string Results => _temp["results"];

    private Dictionary<string, string> Task(int index, int count) => new()
    {
        ["SLURM_ARRAY_TASK_ID"] = $"{index}", ["SLURM_ARRAY_TASK_COUNT"] = $"{count}",
        ["MATRIX"] = QuickRun.MatrixPath, ["RESULTS"] = Results, ["DEVICE"] = "cpu",
    };

    private string RunTask(int index, int count)
    {
        using var task = Defensebench.StartScript(_temp.Path, Script("shards.sbatch"), Task(index, count));
        return task.Expect(0, Limit);
    }

    private string RunMerge(int expected)
    {
        using var merge = Defensebench.StartScript(_temp.Path, Script("merge.sbatch"),
            new Dictionary<string, string> { ["MATRIX"] = QuickRun.MatrixPath, ["RESULTS"] = Results });
        return merge.Expect(expected, Limit);
    }

    [Fact]
    public void Every_array_task_then_the_merge_give_the_unsharded_run_though_a_task_was_killed_and_resubmitted()
    {
        const int shards = 3;
        RunTask(0, shards);
        RunTask(2, shards);
        string killed = Path.Combine(Results, "shards", "1");
        using (var task = Defensebench.StartScript(_temp.Path, Script("shards.sbatch"), Task(1, shards)))
        {
            var clock = Stopwatch.StartNew();
            while (GrowingCsv.DataRows(Path.Combine(killed, CellsCsv.FileName)) < 2)
            {
                Assert.False(task.HasExited, $"task 1 ended (exit {(task.HasExited ? task.ExitCode : 0)}) before it wrote 2 rows:\n{task.Output}");
                Assert.True(clock.Elapsed < Limit, $"no 2 rows after {clock.Elapsed}:\n{task.Output}");
                Thread.Sleep(10);
            }
            task.KillTree();
        }
        Assert.Null(Manifest.TryLoad(killed)!.Finished);

        Assert.Contains("has not finished", RunMerge(2), StringComparison.Ordinal);

        // Resubmitted alone, as the script's header says: an array of one task, with SHARDS giving the count.
        using var resubmitted = Defensebench.StartScript(_temp.Path, Script("shards.sbatch"),
            new Dictionary<string, string>(Task(1, 1)) { ["SHARDS"] = $"{shards}" });
        string resumed = resubmitted.Expect(0, Limit);
        RunMerge(0);

        Assert.Contains("rows already done", resumed, StringComparison.Ordinal);
        SameResults.Assert(quick.Out, Path.Combine(Results, "merged"), QuickRun.MatrixPath);
    }

    [Fact]
    public void Submit_queues_an_array_of_one_task_per_shard_and_a_merge_that_waits_for_all_of_them()
    {
        // A stand-in sbatch: records SHARDS and its arguments, answers like `sbatch --parsable` with a job id. The
        // caller's own SHARDS (9) must not reach the tasks.
        string bin = _temp["bin"];
        string log = _temp["sbatch.log"];
        _temp.Write("bin/sbatch", $"#!/usr/bin/env bash\necho \"SHARDS=$SHARDS $*\" >> '{log}'\nn=$(wc -l < '{log}')\necho \"$((4000 + n));cluster\"\n");
        File.SetUnixFileMode(Path.Combine(bin, "sbatch"), UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
        var env = new Dictionary<string, string> { ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}", ["SHARDS"] = "9" };

        using var submit = Defensebench.StartScript(_temp.Path, Script("submit.sh"), env, "5");
        string output = submit.Expect(0, Limit);

        string[] calls = File.ReadAllLines(log);
        Assert.Equal(2, calls.Length);
        Assert.Equal($"SHARDS=5 --parsable --array=0-4 {Script("shards.sbatch")}", calls[0]);
        Assert.Equal($"SHARDS=5 --parsable --dependency=afterok:4001 {Script("merge.sbatch")}", calls[1]);
        Assert.Contains("job array 4001", output, StringComparison.Ordinal);
        Assert.Contains("job 4002", output, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
