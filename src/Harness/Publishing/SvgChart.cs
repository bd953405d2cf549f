using System.Globalization;
using System.Text;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Publishing;

/// <summary>One point of a chart: a value with its interval, a label written beside it, and whether it is drawn filled.</summary>
public sealed record ChartPoint(double X, double Y, double Low, double High, string Label, bool Filled = true);

/// <summary>A line across the chart at a value (a limit or budget), with its caption.</summary>
public sealed record ChartLine(double Value, string Caption);

/// <summary>
/// A small scatter chart written as plain SVG text: points with vertical interval bars and labels, dashed limit lines,
/// and an optional shaded x-range. Self-contained (no fonts, scripts or links), so it can be inlined in an HTML page
/// that must print and open offline, and readable by tests as XML.
/// </summary>
public sealed record SvgChart(string Title, string XLabel, string YLabel, IReadOnlyList<ChartPoint> Points)
{
    private const int Width = 640, Height = 400, Left = 70, Right = 20, Top = 40, Bottom = 60;

    public IReadOnlyList<ChartLine> VerticalLines { get; init; } = [];
    public IReadOnlyList<ChartLine> HorizontalLines { get; init; } = [];

    /// <summary>An x-range to shade (e.g. the feasible settings), with its caption.</summary>
    public (double From, double To, string Caption)? Shaded { get; init; }

    /// <summary>Plot x on a log10 scale (compression ratios span decades).</summary>
    public bool LogX { get; init; }

    public string Render()
    {
        var xs = Points.Select(p => p.X).Concat(VerticalLines.Select(l => l.Value)).ToList();
        var ys = Points.SelectMany(p => new[] { p.Low, p.High, p.Y }).Concat(HorizontalLines.Select(l => l.Value)).ToList();
        if (Shaded is { } s) xs.AddRange([s.From, s.To]);
        var (x0, x1) = Range(xs.Select(Tx));
        var (y0, y1) = Range(ys);
        double Px(double x) => Left + (Tx(x) - x0) / (x1 - x0) * (Width - Left - Right);
        double Py(double y) => Height - Bottom - (y - y0) / (y1 - y0) * (Height - Top - Bottom);

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"11\">"));
        svg.Append(Invariant($"<title>{Escape.Html(Title)}</title><rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>"));
        if (Shaded is { } shade)
            svg.Append(Invariant($"<rect class=\"feasible\" x=\"{Math.Min(Px(shade.From), Px(shade.To)):0.#}\" y=\"{Top}\" width=\"{Math.Max(2, Math.Abs(Px(shade.To) - Px(shade.From))):0.#}\" height=\"{Height - Top - Bottom}\" fill=\"#d8f0d8\"/>"))
               .Append(Text(Px(shade.From), Top + 12, shade.Caption, "start", "#2a7a2a"));
        svg.Append(Invariant($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{Width - Left - Right}\" height=\"{Height - Top - Bottom}\" fill=\"none\" stroke=\"#444\"/>"));
        foreach (double t in LogX ? LogTicks(x0, x1) : Ticks(x0, x1))
            svg.Append(Invariant($"<line x1=\"{Left + (t - x0) / (x1 - x0) * (Width - Left - Right):0.#}\" x2=\"{Left + (t - x0) / (x1 - x0) * (Width - Left - Right):0.#}\" y1=\"{Height - Bottom}\" y2=\"{Height - Bottom + 4}\" stroke=\"#444\"/>"))
               .Append(Text(Left + (t - x0) / (x1 - x0) * (Width - Left - Right), Height - Bottom + 16, Number(LogX ? Math.Pow(10, t) : t), "middle"));
        foreach (double t in Ticks(y0, y1))
            svg.Append(Invariant($"<line x1=\"{Left - 4}\" x2=\"{Left}\" y1=\"{Py(t):0.#}\" y2=\"{Py(t):0.#}\" stroke=\"#444\"/>"))
               .Append(Text(Left - 6, Py(t) + 4, Number(t), "end"));
        foreach (var line in VerticalLines)
            svg.Append(Invariant($"<line x1=\"{Px(line.Value):0.#}\" x2=\"{Px(line.Value):0.#}\" y1=\"{Top}\" y2=\"{Height - Bottom}\" stroke=\"#b00\" stroke-dasharray=\"5 4\"/>"))
               .Append(Text(Px(line.Value) + 4, Height - Bottom - 6, line.Caption, "start", "#b00"));
        foreach (var line in HorizontalLines)
            svg.Append(Invariant($"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Py(line.Value):0.#}\" y2=\"{Py(line.Value):0.#}\" stroke=\"#b00\" stroke-dasharray=\"5 4\"/>"))
               .Append(Text(Width - Right - 4, Py(line.Value) - 4, line.Caption, "end", "#b00"));
        foreach (var p in Points)
        {
            double px = Px(p.X);
            svg.Append(Invariant($"<line x1=\"{px:0.#}\" x2=\"{px:0.#}\" y1=\"{Py(p.Low):0.#}\" y2=\"{Py(p.High):0.#}\" stroke=\"#1f5fa8\"/>"));
            svg.Append(Invariant($"<circle cx=\"{px:0.#}\" cy=\"{Py(p.Y):0.#}\" r=\"4\" fill=\"{(p.Filled ? "#1f5fa8" : "white")}\" stroke=\"#1f5fa8\"/>"));
            svg.Append(Text(px + 6, Py(p.Y) - 5, p.Label, "start"));
        }
        svg.Append(Text(Width / 2.0, 20, Title, "middle", weight: "bold"));
        svg.Append(Text((Left + Width - Right) / 2.0, Height - 14, XLabel + (LogX ? " (log scale)" : ""), "middle"));
        svg.Append(Invariant($"<text x=\"16\" y=\"{(Top + Height - Bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {(Top + Height - Bottom) / 2})\">{Escape.Html(YLabel)}</text>"));
        return svg.Append("</svg>").ToString();
    }

    private double Tx(double x) => LogX ? Math.Log10(Math.Max(x, 1e-12)) : x;

    /// <summary>The data range padded by 5 % each side (a unit range around a single value).</summary>
    private static (double, double) Range(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToList();
        if (finite.Count == 0) return (0, 1);
        double lo = finite.Min(), hi = finite.Max();
        if (hi - lo < 1e-12) return (lo - 0.5, hi + 0.5);
        double pad = (hi - lo) * 0.05;
        return (lo - pad, hi + pad);
    }

    /// <summary>About five round tick values (1, 2 or 5 times a power of ten apart) inside [lo, hi].</summary>
    private static IEnumerable<double> Ticks(double lo, double hi)
    {
        double raw = (hi - lo) / 5, power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1, 2, 5, 10 }.Select(m => m * power).First(s => s >= raw);
        for (double t = Math.Ceiling(lo / step) * step; t <= hi; t += step) yield return Math.Abs(t) < step * 1e-9 ? 0 : t;
    }

    /// <summary>Ticks in log10 space at 1, 2 and 5 times powers of ten, or at powers of ten alone when those are too many.</summary>
    private static IEnumerable<double> LogTicks(double lo, double hi)
    {
        var all = Enumerable.Range((int)Math.Floor(lo), (int)Math.Ceiling(hi) - (int)Math.Floor(lo) + 1)
            .SelectMany(k => new[] { 1.0, 2, 5 }.Select(m => Math.Log10(m) + k)).Where(t => t >= lo && t <= hi).ToList();
        return all.Count > 8 ? all.Where(t => Math.Abs(t - Math.Round(t)) < 1e-9) : all;
    }

    private static string Number(double x) => x.ToString(Math.Abs(x) >= 1000 || x == 0 ? "0" : "G3", CultureInfo.InvariantCulture);

    private static string Text(double x, double y, string text, string anchor, string colour = "#222", string weight = "normal") =>
        Invariant($"<text x=\"{x:0.#}\" y=\"{y:0.#}\" text-anchor=\"{anchor}\" fill=\"{colour}\" font-weight=\"{weight}\">{Escape.Html(text)}</text>");


    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
