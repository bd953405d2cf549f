using System.Diagnostics;

namespace DefenseBench.Harness.Tests.Support;

/// <summary>
/// Debian's chromium, headless, as the browser the leaderboard page is checked in (README: `.ci/run` installs it):
/// the DOM after the page's own script ran, at a given window size, and the page printed.
/// </summary>
public static class Chromium
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>The DOM chromium serialises after loading <paramref name="file"/> in a window of the given size.</summary>
    public static async Task<string> DumpDom(string file, int width = 1280, int height = 900)
    {
        var (stdout, stderr) = await Run(["--dump-dom", $"--window-size={width},{height}", new Uri(file).AbsoluteUri]);
        Assert.True(stdout.Contains("<body", StringComparison.Ordinal), $"chromium returned no DOM for {file} (stderr: {stderr})");
        return stdout;
    }

    /// <summary>The PDF chromium prints of <paramref name="file"/> (its own page size and margins, no header or footer).</summary>
    public static async Task<byte[]> PrintToPdf(string file)
    {
        string pdf = Path.ChangeExtension(file, ".pdf");
        var (_, stderr) = await Run([$"--print-to-pdf={pdf}", "--no-pdf-header-footer", new Uri(file).AbsoluteUri]);
        Assert.True(File.Exists(pdf), $"chromium printed no PDF of {file} (stderr: {stderr})");
        return await File.ReadAllBytesAsync(pdf);
    }

    private static async Task<(string Stdout, string Stderr)> Run(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("chromium") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in (string[])["--headless", "--no-sandbox", "--disable-gpu", .. args]) info.ArgumentList.Add(a);
        using var browser = Process.Start(info)!;
        var stderr = browser.StandardError.ReadToEndAsync();
        string stdout = await browser.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        await browser.WaitForExitAsync(timeout.Token);
        return (stdout, await stderr);
    }
}
