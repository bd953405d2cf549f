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
        SafeTensorsFile.Write(path, upload.Entries.Select(e => (e.Name, e.Value.to(ScalarType.Float32))), metadata);
    }

    /// <summary>The defended upload read from <paramref name="path"/>, each tensor on its input tensor's device.</summary>
    public static Update ReadOut(string path, Update upload)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw Bad(Directory.Exists(path) ? "is a folder, not a file" : "was not written");
        long limit = upload.ElementCount * sizeof(float) + HeaderAllowance;
        if (info.Length > limit)
            throw Bad(string.Create(CultureInfo.InvariantCulture, $"is {info.Length} bytes, more than the {limit} an answer for this model can take"));
        SafeTensorsFile file;
        try
        {
            file = SafeTensorsFile.Parse(File.ReadAllBytes(path), "OUT");
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

    private static string Names(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    private static ExecDefenseException Bad(string problem) => new($"OUT {problem}");
}
