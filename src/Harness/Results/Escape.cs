using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;

namespace DefenseBench.Harness.Results;

/// <summary>
/// The one escaping function per output format for values that come from data (cells.csv, manifest.json, a previous
/// leaderboard.json): whatever a results folder holds is shown as text and never becomes markup, a link, a heading, a
/// terminal control sequence or a broken file. Writers escape every data value through these and nothing else.
/// </summary>
public static class Escape
{
    /// <summary>
    /// Markdown (GitHub, CommonMark and docs sites), for a value inside a line (a table cell, a heading, a list item):
    /// line breaks become spaces so no value opens a heading, list or table row; &lt; &gt; &amp; become entities so no
    /// raw HTML (script, img onerror) or autolink forms; \ ` * _ ~ [ ] | are backslash-escaped so no emphasis, code span,
    /// link (javascript: included) or table cell forms.
    /// </summary>
    public static string Markdown(string text)
    {
        var md = new StringBuilder(text.Length + 8);
        foreach (char c in Printable(text, keepNewlines: false))
            md.Append(c switch
            {
                '<' => "&lt;",
                '>' => "&gt;",
                '&' => "&amp;",
                '\\' or '`' or '*' or '_' or '~' or '[' or ']' or '|' => "\\" + c,
                _ => c.ToString(),
            });
        return md.ToString();
    }

    /// <summary>
    /// HTML text and attribute values, and SVG (XML) alike, since the leaderboard page inlines its SVG: &lt; &gt; &amp; " '
    /// become entities, and characters XML forbids (NUL, other control characters) become spaces so the file still parses.
    /// </summary>
    public static string Html(string text) => WebUtility.HtmlEncode(Printable(text, keepNewlines: true));

    /// <summary>
    /// JSON writing: the serializer escapes quotes, backslashes and control characters, and with this encoder also
    /// &lt; &gt; &amp; ' + as \uXXXX, so a value stays inert even where the JSON is pasted into an HTML page.
    /// </summary>
    public static JavaScriptEncoder Json => JavaScriptEncoder.Default;

    /// <summary>
    /// A YAML scalar in the sweep matrix `recommend` suggests: written plain when it is a plain name or number, else as
    /// a double-quoted string (JSON escaping, which YAML reads the same), so a value from data cannot add keys, lines
    /// or flow collections to a matrix the user then runs.
    /// </summary>
    public static string Yaml(string text) =>
        text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '+' or '/') && !text.StartsWith('-')
            ? text
            : System.Text.Json.JsonSerializer.Serialize(text, new System.Text.Json.JsonSerializerOptions { Encoder = Json });

    /// <summary>Text printed to a terminal: control characters (ANSI escape sequences included) become spaces; line breaks stay.</summary>
    public static string Terminal(string text) => Printable(text, keepNewlines: true);

    /// <summary>Control, line- and paragraph-separator and bidirectional-override characters replaced by spaces.</summary>
    private static string Printable(string text, bool keepNewlines)
    {
        if (!text.Any(Unsafe)) return text;
        var sb = new StringBuilder(text.Length);
        foreach (char c in text) sb.Append(c == '\n' && keepNewlines ? '\n' : Unsafe(c) ? ' ' : c);
        return sb.ToString();
    }

    private static bool Unsafe(char c) =>
        char.IsControl(c)
        || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
        || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';
}
