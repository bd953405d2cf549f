namespace DefenseBench.Harness.Tests.Support;

/// <summary>
/// Values a crafted results folder may hold, shared by every escaping test and the fuzz suite: markup, links, line
/// breaks that open a heading, table breakers, entities, control and bidirectional characters.
/// </summary>
public static class HostileText
{
    public static readonly string[] Payloads =
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "<javascript:alert(1)>",
        "x\n# heading",
        "x\r\n<h1>raw</h1>",
        "a|b||c",
        "`code` **bold** _em_ ~~del~~",
        "&lt;script&gt;&#60;b&#62;",
        "\"quoted' attr=\"on",
        "]]><!-- -->",
        "nul\0char",
        "\u001b[31mred\u001b[0m",
        "\u202Egnp.exe",
        "line\u2028separator",
        "\\back\\slash\\",
    ];

    public static TheoryData<string> Each() => [.. Payloads];
}
