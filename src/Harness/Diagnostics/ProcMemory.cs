using System.Globalization;

namespace DefenseBench.Harness.Diagnostics;

/// <summary>Memory figures the Linux kernel keeps for the process and the machine (null where /proc is not there).</summary>
public static class ProcMemory
{
    /// <summary>Peak resident set size of this process so far (VmHWM): what a memory limit has to allow.</summary>
    public static long? PeakResidentBytes() => Field("/proc/self/status", "VmHWM");

    /// <summary>Resident set size now (VmRSS).</summary>
    public static long? ResidentBytes() => Field("/proc/self/status", "VmRSS");

    /// <summary>The machine's physical memory (MemTotal).</summary>
    public static long? MachineBytes() => Field("/proc/meminfo", "MemTotal");

    public static string MiB(long? bytes) => bytes is { } b ? (b / 1048576.0).ToString("F0", CultureInfo.InvariantCulture) : "-";

    /// <summary>A "Name:   1234 kB" line of a /proc file, in bytes.</summary>
    private static long? Field(string file, string name)
    {
        if (!File.Exists(file)) return null;
        foreach (string line in File.ReadLines(file))
        {
            if (!line.StartsWith(name + ":", StringComparison.Ordinal)) continue;
            string[] parts = line[(name.Length + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            return parts.Length > 0 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kb) ? kb * 1024 : null;
        }
        return null;
    }
}
