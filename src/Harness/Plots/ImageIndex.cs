using System.Globalization;
using System.Text;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Plots;

/// <summary>
/// images/index.html: every reconstruction grid of a run with its cell, seed and image metrics, so the pictures can be
/// looked at before the numbers are read. Built from cells.csv and the PNGs present.
/// </summary>
public static class ImageIndex
{
    /// <summary>Writes the index when the run folder holds grids; returns its path, or null when there is nothing to index.</summary>
    public static string? Write(IReadOnlyList<CellRow> rows, RunFolder run)
    {
        var shown = rows.Where(r => File.Exists(run.GridOf(r))).ToArray();
        if (shown.Length == 0) return null;
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Reconstructions</title>");
        html.AppendLine("<style>body{font-family:sans-serif}td{padding:4px 10px;vertical-align:top}img{image-rendering:pixelated}</style></head><body>");
        html.AppendLine("<h1>Reconstructions</h1><p>Each picture: originals (upper row) above the reconstructions matched to them " +
                        "(lower row), clamped to [0, 1] as they were scored. PSNR with data range 1; SSIM with an 11x11 Gaussian window.</p><table>");
        foreach (var block in shown.GroupBy(r => r.Block))
        {
            html.AppendLine(CultureInfo.InvariantCulture, $"<tr><th colspan=\"2\" align=\"left\"><h2>{Escape.Html(block.Key)}</h2></th></tr>");
            foreach (var r in block.OrderBy(r => r.Attack).ThenBy(r => r.Defense).ThenBy(r => r.BatchSize).ThenBy(r => r.Seed))
            {
                string file = RunFolder.GridFileName(r.CellId, r.Seed);
                html.AppendLine(CultureInfo.InvariantCulture,
                    $"<tr><td><b>{Escape.Html(r.Attack)}</b> {Escape.Html(r.AttackParams)}<br>defense {Escape.Html(r.Defense)}<br>{Escape.Html(r.Dataset)}, {Escape.Html(r.Model)}, B={r.BatchSize}, {Escape.Html(r.Protocol)}<br>" +
                    $"cell {Escape.Html(r.CellId)}, seed {r.Seed}<br>PSNR {Format(r.Psnr)} dB, SSIM {Format(r.Ssim)}, MSE {Format(r.Mse)}, success {Format(r.Success)}</td>" +
                    $"<td><a href=\"{Escape.Html(file)}\"><img src=\"{Escape.Html(file)}\" alt=\"{Escape.Html(file)}\"></a></td></tr>");
            }
        }
        html.AppendLine("</table></body></html>");
        string path = run.ImageIndex;
        File.WriteAllText(path, html.ToString());
        return path;
    }


    private static string Format(double? v) => v?.ToString("0.####", CultureInfo.InvariantCulture) ?? "-";
}
