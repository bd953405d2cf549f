using System.Diagnostics;
using System.Globalization;
using DefenseBench.Core.Data;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Utility;

/// <summary>A defence's utility: its accuracy, the drop against the same training without defence, and the cosine.</summary>
public sealed record UtilityMetrics(double Accuracy, double Drop, double UpdateCosine, TrainingShape Shape, int? DivergedAt = null);

/// <summary>
/// Utility trainings of one run, each done once per (dataset, model, training settings, defence) and shared by every
/// cell that asks for it, whatever its attack, scenario batch size or seed; the undefended training of the same
/// settings gives the drop. The seed comes from the dataset, model and settings, never from the defence, so all
/// defences train on the same data, batches and initial model.
/// </summary>
public sealed class UtilityCache(Device device, TextWriter? log = null) : IDisposable
{
    private readonly Dictionary<string, UtilityData> _data = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UtilityRun> _runs = new(StringComparer.Ordinal);

    public UtilityMetrics Measure(IImageDataset dataset, ScenarioSpec scenario, UtilitySettings settings, DefensePipeline pipeline)
    {
        string key = $"dataset={scenario.Dataset};classes={scenario.NumClasses};model={scenario.Model};{settings.Canonical}";
        var run = Run(key, dataset, scenario, settings, pipeline);
        var none = Run(key, dataset, scenario, settings, DefensePipeline.None);
        return new UtilityMetrics(run.Accuracy, none.Accuracy - run.Accuracy, run.UpdateCosine, run.Shape, run.DivergedAt);
    }

    private UtilityRun Run(string key, IImageDataset dataset, ScenarioSpec scenario, UtilitySettings settings, DefensePipeline pipeline)
    {
        string runKey = key + "|defense=" + pipeline.Canonical;
        if (_runs.TryGetValue(runKey, out var done)) return done;
        ulong seed = Seeds.FromText("utility|" + key);
        if (!_data.TryGetValue(key, out var data)) _data[key] = data = UtilityData.Load(dataset, settings, seed, device);
        var clock = Stopwatch.StartNew();
        var run = UtilityTraining.Run(data, scenario.Model, dataset.Shape, scenario.NumClasses, pipeline, settings, seed, device);
        string diverged = run.DivergedAt is { } r ? $", diverged in round {r + 1} (aggregate not finite)" : "";
        log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"utility {pipeline.Canonical} on {scenario.Dataset} {scenario.Model}: accuracy {run.Accuracy:F4}, cosine {run.UpdateCosine:F3}{diverged} ({clock.Elapsed.TotalSeconds:F1} s)"));
        return _runs[runKey] = run;
    }

    public void Dispose()
    {
        foreach (var data in _data.Values) data.Dispose();
        _data.Clear();
    }
}
