using System.Text.Json;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses;
using DefenseBench.Defenses.Compression;
using DefenseBench.Defenses.External;
using DefenseBench.Harness.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Tests.Running;

/// <summary>
/// An exec defence on one upload at a time, against the Python programs of Running/ExecPrograms: what it sends, what
/// it accepts back, and how each way a program can fail reads in the cell's error.
/// </summary>
public sealed class ExecDefenseTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private static readonly UploadOrigin Origin = new(2, 3, 8, new FedSgd());

    private ExecSettings Settings(string command, bool persistent = false, double timeoutSeconds = 60, params ExecParameter[] parameters) =>
        new("test", command, _temp.Path, parameters, TimeSpan.FromSeconds(timeoutSeconds), persistent);

    /// <summary>A small upload with ties in |value| (3 and -3, 1 and -1, zeros), so a top-k must break them as the built-in does.</summary>
    private static Update Upload() => new(UpdateKind.Gradient,
    [
        ("fc.weight", torch.tensor(new[] { 3f, -1f, 0.5f, -3f, 1f, 0f, 2f, -2f, 0f, 1f, 0.25f, -0.5f }, [3, 4])),
        ("fc.bias", torch.tensor(new[] { -1f, 1f, 0.1f }, [3])),
    ]);

    /// <summary>The upload through one session of <paramref name="defence"/>, the session closed after.</summary>
    private static Update Defend(ExecDefense defence, Update upload, UploadOrigin? origin = null)
    {
        using var session = defence.Open(0);
        return session.Apply(upload, new Rng(7), origin ?? Origin);
    }

    private string Failure(string mode, bool persistent = false, double timeoutSeconds = 60)
    {
        var defence = new ExecDefense(Settings(Python.Command(Python.Fixture("misbehave.py"), mode), persistent, timeoutSeconds));
        return Assert.Throws<ExecDefenseException>(() => Defend(defence, Upload())).Message;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_python_top_k_gives_the_built_in_layer_top_k_bit_for_bit_with_ties_to_the_lower_index(bool persistent)
    {
        using var scope = torch.NewDisposeScope();
        foreach (double keep in new[] { 0.25, 0.5, 0.34 })
        {
            var python = new ExecDefense(Settings(Python.Command(Python.Fixture("topk.py")), persistent, parameters: new ExecParameter("keep", keep)));
            var expected = DefenseCatalog.TopK(keep, TopKScope.Layer, errorFeedback: false).Open(0).Apply(Upload(), new Rng(7));
            Assert.True(BitIdentical(expected, Defend(python, Upload())), $"keep {keep}");
        }
    }

    [Fact]
    public void A_python_identity_answers_the_upload_bit_for_bit_on_its_device()
    {
        using var scope = torch.NewDisposeScope();
        var upload = Upload();
        var answer = Defend(new ExecDefense(Settings(Python.Command(Python.Fixture("identity.py")))), upload);
        Assert.True(BitIdentical(upload, answer));
        Assert.All(answer.Tensors, t => Assert.Equal((upload.Tensors[0].device_type, upload.Tensors[0].device_index), (t.device_type, t.device_index)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_program_is_told_the_upload_s_origin_and_parameters_and_runs_in_the_matrix_folder(bool persistent)
    {
        using var scope = torch.NewDisposeScope();
        string log = _temp["log.jsonl"];
        var defence = new ExecDefense(Settings(Python.Command(Python.Fixture("misbehave.py"), "log", $"\"{log}\""), persistent,
            parameters: [new ExecParameter("keep", 0.1), new ExecParameter("mode", "fast"), new ExecParameter("on", true)]));
        Defend(defence, Upload());
        var told = JsonDocument.Parse(File.ReadAllLines(log).Single()).RootElement;
        Assert.Equal(2, told.GetProperty("client").GetInt32());
        Assert.Equal(3, told.GetProperty("round").GetInt32());
        Assert.Equal(8, told.GetProperty("batch_size").GetInt32());
        Assert.Equal("fedsgd", told.GetProperty("protocol").GetString());
        Assert.Equal("gradient", told.GetProperty("kind").GetString());
        Assert.Equal("exec(name=test,keep=0.1,mode=fast,on=true)", told.GetProperty("defense").GetString());
        var parameters = told.GetProperty("params");
        Assert.Equal(0.1, parameters.GetProperty("keep").GetDouble());
        Assert.Equal("fast", parameters.GetProperty("mode").GetString());
        Assert.True(parameters.GetProperty("on").GetBoolean());
        Assert.Equal(new Rng(7).NextULong(), told.GetProperty("seed").GetUInt64());
        Assert.Equal(_temp.Path, told.GetProperty("cwd").GetString());
        Assert.Equal(persistent ? 0 : 2, told.GetProperty("argv").GetArrayLength());
    }

    [Theory]
    [InlineData(false, 3)]
    [InlineData(true, 1)]
    public void One_shot_mode_starts_the_program_per_upload_and_persistent_mode_once_for_every_session(bool persistent, int processes)
    {
        using var scope = torch.NewDisposeScope();
        string log = _temp["pids.jsonl"];
        var defence = new ExecDefense(Settings(Python.Command(Python.Fixture("misbehave.py"), "log", $"\"{log}\""), persistent));
        var sessions = Enumerable.Range(0, 3).Select(defence.Open).ToArray();
        for (int k = 0; k < 3; k++) sessions[k].Apply(Upload(), new Rng(1), Origin with { Client = k });
        foreach (var session in sessions) session.Dispose();
        var told = File.ReadAllLines(log).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(3, told.Length);
        Assert.Equal(processes, told.Select(t => t.GetProperty("pid").GetInt32()).Distinct().Count());
    }

    [Fact]
    public void The_upload_files_and_their_temp_folder_are_gone_once_the_last_session_closes()
    {
        using var scope = torch.NewDisposeScope();
        string log = _temp["paths.jsonl"];
        var defence = new ExecDefense(Settings(Python.Command(Python.Fixture("misbehave.py"), "log", $"\"{log}\"")));
        var first = defence.Open(0);
        var second = first.Fork();
        first.Apply(Upload(), new Rng(1), Origin);
        var paths = JsonDocument.Parse(File.ReadAllLines(log).Single()).RootElement.GetProperty("argv").EnumerateArray().Select(a => a.GetString()!).ToArray();
        string folder = Path.GetDirectoryName(paths[0])!;
        Assert.All(paths, p => Assert.False(File.Exists(p), $"{p} outlived its upload"));
        first.Dispose();
        first.Dispose();
        Assert.True(Directory.Exists(folder), "the folder went while a fork was still open");
        second.Dispose();
        Assert.False(Directory.Exists(folder), $"the temp folder {folder} outlived the last session");
    }

    private static bool BitIdentical(Update a, Update b) =>
        a.Names.SequenceEqual(b.Names) && a.Tensors.Zip(b.Tensors).All(p => p.First.shape.SequenceEqual(p.Second.shape)
            && Bits(p.First).SequenceEqual(Bits(p.Second)));

    private static IEnumerable<int> Bits(Tensor t) => t.cpu().contiguous().data<float>().ToArray().Select(BitConverter.SingleToInt32Bits);

    [Theory]
    [InlineData(false, "exited with status 3; stderr ends: misbehave: giving up on purpose")]
    [InlineData(true, "exited with status 3 without answering; stderr ends: misbehave: giving up on purpose")]
    public void A_non_zero_exit_fails_with_its_status_and_the_end_of_stderr(bool persistent, string expected)
    {
        string message = Failure("exit", persistent);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.StartsWith("exec(name=test), client 2, round 3: `", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, "took longer than its timeout of 1 s and was killed")]
    [InlineData(true, "gave no answer within its timeout of 1 s and was killed")]
    public void A_program_past_its_timeout_is_killed(bool persistent, string expected)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Contains(expected, Failure("sleep", persistent, timeoutSeconds: 1), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the timeout took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("shape", "OUT gives tensor 'fc.weight' the shape [11]; the upload's is [3, 4]")]
    [InlineData("missing", "OUT has no tensor 'fc.weight'")]
    [InlineData("extra", "OUT has tensor 'not.a.parameter', which the upload does not (it has 'fc.weight', 'fc.bias')")]
    [InlineData("garbage", "OUT has a header that is not valid JSON")]
    [InlineData("silent", "OUT was not written")]
    [InlineData("truncated", "OUT is truncated")]
    [InlineData("huge", "bytes, more than the")]
    [InlineData("f64", "OUT holds tensor 'fc.weight' as F64; write it as float32 (F32)")]
    [InlineData("nan", "OUT has a NaN or infinite value in tensor 'fc.weight' (entry 0) where the upload was finite")]
    public void An_answer_that_is_not_the_upload_s_shape_fails_naming_what_differs(string mode, string expected) =>
        Assert.Contains(expected, Failure(mode), StringComparison.Ordinal);

    [Fact]
    public void An_answer_that_is_a_link_is_refused_unread() =>
        Assert.Contains("OUT is a link (to /dev/zero); write the answer as a regular file", Failure("link"), StringComparison.Ordinal);

    [Fact]
    public void An_answer_that_is_a_fifo_no_one_writes_fails_within_the_timeout()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Contains("OUT could not be read to its end within 2 s", Failure("fifo", timeoutSeconds: 2), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the read took {clock.Elapsed}");
    }

    [Fact]
    public void A_persistent_program_s_error_line_fails_the_upload_with_its_message() =>
        Assert.Contains("answered \"error RuntimeError: misbehave raised on purpose\"", Failure("raise", persistent: true), StringComparison.Ordinal);

    [Fact]
    public void A_persistent_program_that_answers_something_else_is_stopped() =>
        Assert.Contains("where the protocol expects \"ok\" or \"error MESSAGE\"", Failure("chatty", persistent: true), StringComparison.Ordinal);

    [Fact]
    public void A_program_that_does_not_exist_fails_saying_it_could_not_start()
    {
        var defence = new ExecDefense(Settings("no-such-program-defensebench"));
        Assert.Contains("`no-such-program-defensebench` could not be started", Assert.Throws<ExecDefenseException>(() => Defend(defence, Upload())).Message,
            StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
