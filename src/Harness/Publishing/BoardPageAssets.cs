using System.Security.Cryptography;
using System.Text;

namespace DefenseBench.Harness.Publishing;

/// <summary>
/// The leaderboard page's style sheet, its one script and the Content-Security-Policy that lets that script alone run
/// (by its SHA-256) and the page fetch nothing: the page is one file that opens offline, ranks without the script, and
/// prints on A4 landscape (README, publishing a leaderboard).
/// </summary>
public static class BoardPageAssets
{
    /// <summary>
    /// Click (or Enter on) a header to sort its table by the cells' <c>data-v</c>, numbers as numbers, again to reverse;
    /// cells without a value stay last. Without it the table is in rank order, which sorting by rank restores.
    /// </summary>
    public const string Script =
        """
        document.querySelectorAll("table.board").forEach(t => {
          t.classList.add("sortable");
          const heads = Array.from(t.tHead.rows[0].cells);
          heads.forEach((h, i) => {
            const sort = () => {
              const up = h.getAttribute("aria-sort") !== "ascending", num = h.dataset.sort === "num", body = t.tBodies[0];
              heads.forEach(x => x.removeAttribute("aria-sort"));
              h.setAttribute("aria-sort", up ? "ascending" : "descending");
              Array.from(body.rows).sort((r, s) => {
                const a = r.cells[i].dataset.v, b = s.cells[i].dataset.v;
                if (a === "" || b === "") return (a === "") - (b === "");
                const d = num ? Number(a) - Number(b) : a.localeCompare(b);
                return up ? d : -d;
              }).forEach(r => body.appendChild(r));
            };
            h.tabIndex = 0;
            h.onclick = sort;
            h.onkeydown = e => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } };
          });
        });
        """;

    /// <summary>The CSP source of <see cref="Script"/>: "'sha256-' + base64 of the SHA-256 of its UTF-8 text", as browsers hash it.</summary>
    public static string ScriptHash { get; } = $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Script)))}'";

    /// <summary>Nothing fetched, no form, no base; inline styles; the one script by its hash.</summary>
    public static string ContentSecurityPolicy { get; } = $"default-src 'none'; style-src 'unsafe-inline'; script-src {ScriptHash}; base-uri 'none'; form-action 'none'";

    public const string Css =
        """
        body{font:14px/1.45 system-ui,sans-serif;color:#222;margin:0 auto;padding:1em;max-width:1280px;box-sizing:border-box;overflow-wrap:anywhere}
        h1{font-size:1.5em;margin:.3em 0}h2{font-size:1.15em;margin:1.8em 0 .4em}
        .provenance,footer,.note{font-size:12px;color:#555}.provenance{margin:0;padding-left:1.2em}
        table.board{border-collapse:collapse;font-size:13px;position:relative;margin:.4em 0}
        .board th,.board td{padding:3px 5px;border-bottom:1px solid #e2e2e2;white-space:nowrap;text-align:right;vertical-align:middle}
        .board th{border-bottom:2px solid #999;background:#f5f5f5;font-weight:600;white-space:normal}
        .board .text{text-align:left}.board tbody tr:hover{background:#fafaf0}
        tr.unranked td{color:#888}tr.unranked .fill{fill:#c8c8c8}
        .v{display:inline-block;min-width:2.8em}.by{display:inline-block;min-width:7.3em;text-align:left;font-size:11px;color:#555;margin-left:4px}
        .bar{vertical-align:middle;margin-left:5px}.track{fill:#ececec}.fill{fill:#e07b53}.whisker{stroke:#222;stroke-width:1.3;fill:none}
        .clip,summary{display:block;overflow:hidden;text-overflow:ellipsis}.clip{max-width:11em}
        summary{max-width:19em;cursor:pointer;list-style:none}summary::-webkit-details-marker{display:none}
        summary::before{content:"\25B8\00A0";color:#888}details[open] summary::before{content:"\25BE\00A0"}
        .card{position:absolute;left:0;right:0;z-index:2;margin-top:3px;padding:.5em 1em;background:#fff;border:1px solid #999;
          box-shadow:0 4px 14px #0003;white-space:normal;text-align:left;color:#222;font-size:12px}
        .card table{border-collapse:collapse;margin:.4em 0}.card th,.card td{border:1px solid #ddd;padding:2px 5px;text-align:left;white-space:normal;vertical-align:top}.card td:last-child{white-space:nowrap}
        .card dl{display:grid;grid-template-columns:max-content 1fr;gap:1px 1em;margin:.4em 0}.card dd{margin:0}
        .legend{display:flex;flex-wrap:wrap;gap:.2em 1.5em;font-size:12px;margin:.2em 0 .6em}.legend div{display:flex;gap:.5em}
        .legend dt{font-weight:600}.legend dd{margin:0;font-family:monospace}
        table.sortable th[data-sort]{cursor:pointer}table.sortable th[data-sort]::after{content:"\21C5";color:#aaa;font-size:10px;margin-left:3px}
        table.sortable th[aria-sort=ascending]::after{content:"\25B2";color:#333}table.sortable th[aria-sort=descending]::after{content:"\25BC";color:#333}
        .plots{display:flex;flex-wrap:wrap;gap:1em}.plots svg{max-width:100%;height:auto}
        @page{size:A4 landscape;margin:10mm}
        @media print{body{max-width:none;padding:0;font-size:10px}table.board{font-size:9px}tr{break-inside:avoid;page-break-inside:avoid}
          thead{display:table-header-group}table.sortable th[data-sort]::after,summary::before{content:none}.card{display:none}
          .board tbody tr:hover{background:none}.plots svg{width:48%}}
        """;
}
