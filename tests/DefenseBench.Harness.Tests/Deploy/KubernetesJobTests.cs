using System.Text.RegularExpressions;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Deploy;

/// <summary>
/// Runs deploy/kubernetes as the cluster would, without a cluster: for every completion index the command the shard
/// Job's pod runs (its args with JOB_COMPLETION_INDEX and the container's variables expanded), then the merge Job's
/// command, with the image's folder and the shared volume mapped to local folders; the merged folder must equal an
/// unsharded run.
/// </summary>
[Collection(QuickRunCollection.Name)]
public sealed partial class KubernetesJobTests(QuickRun quick) : IDisposable
{
    private readonly TempFolder _temp = new();

    private static KubernetesJob Shards => KubernetesJob.Load(Repository.File("deploy", "kubernetes", "shards-job.yaml"));

    private static KubernetesJob Merge => KubernetesJob.Load(Repository.File("deploy", "kubernetes", "merge-job.yaml"));

    /// <summary>The folder the image holds the harness's matrices and baselines in: the last WORKDIR of the Dockerfile.</summary>
    private static string ImageFolder => Workdir().Matches(File.ReadAllText(Repository.File("deploy", "Dockerfile")))[^1].Groups[1].Value;

    [GeneratedRegex(@"^WORKDIR\s+(\S+)", RegexOptions.Multiline)]
    private static partial Regex Workdir();

    /// <summary>Paths inside the pod turned into local ones: the image's folder is the repository, the volume a temp folder.</summary>
    private string[] Local(IEnumerable<string> args)
    {
        string volume = Assert.Single(Shards.MountPaths);
        return args.Select(a =>
            a.StartsWith(ImageFolder + "/", StringComparison.Ordinal) ? Repository.File(a[(ImageFolder.Length + 1)..].Split('/'))
            : a.StartsWith(volume + "/", StringComparison.Ordinal) ? Path.Combine(_temp.Path, a[(volume.Length + 1)..])
            : a).ToArray();
    }

    [Fact]
    public void The_shard_job_is_an_indexed_job_with_one_shard_per_completion_index()
    {
        var job = Shards;

        Assert.Equal("Indexed", job.CompletionMode);
        Assert.Equal(job.Completions.ToString(System.Globalization.CultureInfo.InvariantCulture), job.Environment["SHARDS"]);
        var args = job.ArgsFor(new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "4" });
        Assert.Equal("run", args[0]);
        Assert.Equal($"4/{job.Completions}", args[args.ToList().IndexOf("--shard") + 1]);
        Assert.Contains("--resume", args);
        Assert.DoesNotContain(args, a => a.Contains("$(", StringComparison.Ordinal));
    }

    [Fact]
    public void The_image_holds_the_matrix_the_job_names_and_runs_as_a_non_root_user()
    {
        string dockerfile = File.ReadAllText(Repository.File("deploy", "Dockerfile"));
        string matrix = Shards.Environment["MATRIX"];

        Assert.StartsWith(ImageFolder + "/matrices/", matrix, StringComparison.Ordinal);
        Assert.True(File.Exists(Local([matrix])[0]), $"{matrix} is not in the repository's matrices/");
        Assert.Contains("COPY matrices ./matrices", dockerfile, StringComparison.Ordinal);
        Assert.Contains("COPY results/baselines ./results/baselines", dockerfile, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^FROM mcr\.microsoft\.com/dotnet/runtime:", dockerfile);
        Assert.Matches(@"(?m)^USER \$APP_UID$", dockerfile);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void Every_index_of_the_shard_job_then_the_merge_job_give_the_unsharded_run(int shards)
    {
        var job = Shards;
        for (int index = 0; index < shards; index++)
        {
            var pod = new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = $"{index}", ["SHARDS"] = $"{shards}" };
            InProcess.Expect(0, Local(job.ArgsFor(pod)));
        }
        string[] merge = Local(Merge.ArgsFor(new Dictionary<string, string> { ["RUN"] = job.Environment["RUN"] }));

        InProcess.Expect(0, merge);

        string merged = merge[merge.ToList().IndexOf("--out") + 1];
        Assert.Equal(shards, Directory.GetDirectories(Path.Combine(_temp.Path, job.Environment["RUN"], "shards")).Length);
        SameResults.Assert(quick.Out, merged, QuickRun.MatrixPath);
    }

    public void Dispose() => _temp.Dispose();
}
