using System.Xml.Linq;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Tests.Support;

/// <summary>Hand-made rows of cells.csv for plot tests, and the texts a rendered SVG shows.</summary>
public static class SampleRows
{
    /// <summary>An ok row of an LLG-family attack on synthetic MNIST (change fields with `with`).</summary>
    public static CellRow Ok(string attack, string attackParams, string defense, double asr, int batch = 4, int seed = 0) => new()
    {
        CellId = "0123456789ab",
        Block = "b",
        Attack = attack,
        AttackParams = attackParams,
        Defense = defense,
        Dataset = "synthetic-mnist",
        Model = "dlg-lenet",
        BatchSize = batch,
        NumClasses = 10,
        Labels = "non-iid",
        Clients = 1,
        Protocol = "fedsgd",
        Stage = "untrained",
        Mode = "train",
        Seed = seed,
        Status = CellRow.Ok,
        Asr = asr,
        AsrRandom = 0.1,
    };

    /// <summary>The texts an SVG shows (title, axis labels, legend entries, annotations).</summary>
    public static string[] SvgTexts(string svg) =>
        XDocument.Load(svg).Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim()).ToArray();
}
