using System.Globalization;
using DefenseBench.Attacks.Common;
using DefenseBench.Core.Attacks;
using DefenseBench.Core.Federation;
using DefenseBench.Harness.Matrix;

namespace DefenseBench.Harness.Audit;

/// <summary>
/// `run --export-updates DIR`: writes the last layer a label attack read, per cell, seed and target, as the
/// safetensors file `attack --update` reads, with the cell's own recovered counts in the metadata. Defence authors
/// get the exact updates behind a row, and the audit path can be checked against the cell.
/// </summary>
public static class UpdateExport
{
    public const string RecoveredCountsKey = "recovered_counts";

    public static void Write(string folder, Cell cell, int seed, LabelAttack attack, ServerView view, AttackContext context, AttackOutcome outcome)
    {
        Directory.CreateDirectory(folder);
        foreach (var (target, layer) in attack.Layers(view, context))
        {
            var recovered = outcome.Labels.First(l => l.Target == target);
            string who = target == LabelRecovery.Aggregate ? "aggregate" : $"client{target}";
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["cell_id"] = cell.Id,
                ["attack"] = cell.Attack.Canonical,
                ["defense"] = cell.Defense.Canonical,
                ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
                ["target"] = who,
                [RecoveredCountsKey] = string.Join(",", recovered.Counts),
            };
            LastLayerFile.Write(Path.Combine(folder, FileName(cell.Id, seed, who)), layer, metadata);
        }
    }

    public static string FileName(string cellId, int seed, string target) => $"{cellId}-seed{seed}-{target}.safetensors";
}
