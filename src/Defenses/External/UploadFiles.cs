using System.Globalization;
using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using static TorchSharp.torch;

namespace DefenseBench.Defenses.External;

/// <summary>
/// The two files of one exchange with an external defence. IN: one F32 tensor per parameter, named as the model names
/// it, with metadata (all strings, as safetensors requires): params (a JSON object), seed, client, round, batch_size,
/// protocol, kind and defense. OUT: what the program wrote, read as hostile input: it must hold exactly the upload's
/// names, each F32 with the upload's shape, no bigger than such a file can be, and finite wherever the upload was.
/// </summary>
internal static class UploadFiles
{
    /// <summary>Room for OUT's header beyond the tensors' bytes: generous for any model's names, small enough to refuse a flood.</summary>
    private const long HeaderAllowance = 1 << 20;

    public static void WriteIn(string path, Update upload, ExecSettings settings, UploadOrigin origin, ulong seed)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["params"] = settings.ParametersJson(),
            ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["client"] = origin.Client.ToString(CultureInfo.InvariantCulture),
            ["round"] = origin.Round.ToString(CultureInfo.InvariantCulture),
            ["batch_size"] = origin.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["protocol"] = origin.Protocol.Canonical,
            ["kind"] = upload.Kind == UpdateKind.Gradient ? "gradient" : "weight-delta",
            ["defense"] = settings.Canonical,
        };
        // The float32 copies live only until the file is written: this runs once per upload.
        using var scope = NewDisposeScope();
        SafeTensorsFile.Write(path, upload.Entries.Select(e => (e.Name, e.Value.to(ScalarType.Float32))), metadata);
    }

    /// <summary>
    /// The defended upload read from <paramref name="path"/>, each tensor on its input tensor's device. The file must be a
    /// regular file read within <paramref name="timeout"/>: a link (to /dev/zero, say) is refused, and a FIFO that no one
    /// writes, or a device with no end, fails the read instead of stalling or filling the harness.
    /// </summary>
    public static Update ReadOut(string path, Update upload, TimeSpan timeout)
    {
        long limit = upload.ElementCount * sizeof(float) + HeaderAllowance;
        byte[] bytes = ReadAnswer(path, "OUT", limit, timeout) ?? throw Bad(Directory.Exists(path) ? "is a folder, not a file" : "was not written");
        SafeTensorsFile file;
        try
        {
            file = SafeTensorsFile.Parse(bytes, "OUT");
        }
        catch (InputException e)
        {
            throw new ExecDefenseException(e.Message);
        }
        var missing = upload.Names.Where(n => file.Find(n) == null).ToList();
        if (missing.Count > 0) throw Bad($"has no tensor {Names(missing)}");
        var extra = file.Tensors.Select(t => t.Name).Where(n => !upload.Contains(n)).ToList();
        if (extra.Count > 0) throw Bad($"has tensor {Names(extra)}, which the upload does not (it has {Names(upload.Names)})");
        return upload.Map((name, input) =>
        {
            var answer = file.Find(name)!;
            if (answer.DType != "F32") throw Bad($"holds tensor '{name}' as {answer.DType}; write it as float32 (F32), the upload's dtype");
            if (!answer.Shape.SequenceEqual(input.shape))
                throw Bad($"gives tensor '{name}' the shape [{string.Join(", ", answer.Shape)}]; the upload's is [{string.Join(", ", input.shape)}]");
            long bad = answer.FirstNonFinite();
            // A defence may pass on what was already not finite (a diverged training's upload); it may not make NaN or infinity of finite values.
            if (bad >= 0 && input.isfinite().all().item<bool>())
                throw Bad(string.Create(CultureInfo.InvariantCulture, $"has a NaN or infinite value in tensor '{name}' (entry {bad}) where the upload was finite"));
            return answer.ToTensor(input.device);
        });
    }

    /// <summary>
    /// The bytes of an answer file a program wrote, read as hostile input; null when there is no such file (so the
    /// caller says whether that is an error). <paramref name="what"/> names the file in errors ("OUT", "OUT.json"). A
    /// link is refused; more than <paramref name="limit"/> bytes, or no end within <paramref name="timeout"/>, is an error.
    /// </summary>
    internal static byte[]? ReadAnswer(string path, string what, long limit, TimeSpan timeout)
    {
        var info = new FileInfo(path);
        if (!info.Exists) return null;
        if (info.LinkTarget != null) throw Bad($"is a link (to {info.LinkTarget}); write the answer as a regular file", what);
        if (info.Length > limit)
            throw Bad(string.Create(CultureInfo.InvariantCulture, $"is {info.Length} bytes, more than the {limit} an answer here can take"), what);
        return ReadBounded(path, what, limit, timeout);
    }

    /// <summary>At most <paramref name="limit"/> bytes of the file; more, or no end within <paramref name="timeout"/>, is an error.</summary>
    private static byte[] ReadBounded(string path, string what, long limit, TimeSpan timeout)
    {
        var reading = Task.Run(() =>
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
            using var bytes = new MemoryStream();
            var buffer = new byte[1 << 16];
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                bytes.Write(buffer, 0, n);
                if (bytes.Length > limit) break;
            }
            return bytes.ToArray();
        });
        try
        {
            if (!reading.Wait(timeout))
            {
                Release(path);
                throw Bad(string.Create(CultureInfo.InvariantCulture, $"could not be read to its end within {timeout.TotalSeconds:0.###} s (a FIFO or a device, not a regular file?)"), what);
            }
        }
        catch (AggregateException e) when (e.InnerException is IOException or UnauthorizedAccessException)
        {
            throw Bad($"cannot be read ({e.InnerException.Message})", what);
        }
        var result = reading.Result;
        if (result.Length > limit)
            throw Bad(string.Create(CultureInfo.InvariantCulture, $"grew past the {limit} bytes an answer here can take while it was read"), what);
        return result;
    }

    /// <summary>
    /// A read blocked on a FIFO that no program writes would hold its thread for good: opening the FIFO for writing
    /// once, and closing it, ends that read. On anything else the open and close change nothing.
    /// </summary>
    private static void Release(string path) => Task.Run(() =>
    {
        try
        {
            using var writer = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // gone, or not writable: nothing more to do
        }
    }).Wait(TimeSpan.FromSeconds(1));

    private static string Names(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    private static ExecDefenseException Bad(string problem, string what = "OUT") => new($"{what} {problem}");
}
