using System.Diagnostics;
using System.Globalization;
using System.Text;
using DefenseBench.Core.Data;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.External;
using DefenseBench.Harness.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Bench;

/// <summary>
/// One way of running an external defence, timed over its uploads: the first upload (a persistent program's start
/// included) and the median and mean of the rest, in milliseconds per upload, wall clock as a cell sees it (writing IN,
/// the program, reading and checking OUT).
/// </summary>
public sealed record ExecTiming(string Mode, long Values, int Uploads, double FirstMs, double MedianMs, double MeanMs);

/// <summary>
/// What an exec defence costs per upload in each mode: the same program on the same model-sized gradient, started once
/// per upload, then as one persistent process answering every upload. The difference is the program's start (an
/// interpreter and its imports); what remains in persistent mode is the file exchange and the defence's own work.
/// </summary>
public static class ExecBench
{
    public static IReadOnlyList<ExecTiming> Run(string command, IReadOnlyList<ExecParameter> parameters, string model, string dataset, int uploads, Device device)
    {
        using var scope = torch.NewDisposeScope();
        var data = DatasetCatalog.Open(dataset);
        var classifier = ModelCatalog.Create(model, data.Shape, data.NumClasses, 1, device);
        var generator = new torch.Generator(7);
        var upload = new Update(UpdateKind.Gradient,
            classifier.named_parameters().Select(p => (p.name, torch.randn(p.parameter.shape, generator: generator).to(device))).ToArray());
        var results = new List<ExecTiming>();
        foreach (bool persistent in new[] { false, true })
        {
            var settings = new ExecSettings("bench", command, Directory.GetCurrentDirectory(), parameters, ExecSettings.DefaultTimeout, persistent);
            var defence = new ExecDefense(settings);
            var times = new List<double>();
            using (var session = defence.Open(0))
            {
                var rng = new Rng(3);
                for (int i = 0; i <= uploads; i++)
                {
                    using var round = torch.NewDisposeScope();
                    var clock = Stopwatch.StartNew();
                    session.Apply(upload, rng, new UploadOrigin(0, i, 8, new FedSgd()));
                    times.Add(clock.Elapsed.TotalMilliseconds);
                }
            }
            var rest = times.Skip(1).ToArray();
            results.Add(new ExecTiming(persistent ? "persistent" : "one process per upload", upload.ElementCount, uploads, times[0], Timing.Median(rest), rest.Average()));
        }
        return results;
    }

    public static string Table(string command, string model, IReadOnlyList<ExecTiming> rows)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"exec defence `{command}` on a {model} gradient ({rows[0].Values} float32 values), ms per upload");
        text.AppendLine(CultureInfo.InvariantCulture, $"{"mode",-24} {"uploads",8} {"first",10} {"median",10} {"mean",10}");
        foreach (var r in rows)
            text.AppendLine(CultureInfo.InvariantCulture, $"{r.Mode,-24} {r.Uploads,8} {r.FirstMs,10:F1} {r.MedianMs,10:F1} {r.MeanMs,10:F1}");
        if (rows.Count == 2)
            text.AppendLine(CultureInfo.InvariantCulture, $"persistent mode saves {rows[0].MedianMs - rows[1].MedianMs:F1} ms per upload (median), {rows[0].MedianMs / rows[1].MedianMs:F1}x");
        return text.ToString();
    }
}
