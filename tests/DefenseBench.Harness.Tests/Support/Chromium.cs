using System.Diagnostics;

namespace DefenseBench.Harness.Tests.Support;

/// <summary>
/// Debian's chromium, headless, as the browser the leaderboard page is checked in (README: `.ci/run` installs it):
/// the DOM after the page's own script ran, at a given window size.
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
