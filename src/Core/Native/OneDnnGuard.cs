using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DefenseBench.Core.Native;

/// <summary>
/// Caps oneDNN to its SSE4.1 kernels unless the user chose a level. On this project's CI machines (AMD EPYC with
/// AVX-512) the AVX2 and AVX-512 JIT convolution kernels of the oneDNN 3.7.1 inside libtorch 2.10 return wrong,
/// run-to-run varying, sometimes NaN input gradients (backward_data), which corrupts every gradient below the first
/// convolution; the SSE4.1 kernels agree with float64 to float32 precision and cost little at these model sizes.
/// A test compares float32 against float64 gradients, so a machine where the cap is not enough fails loudly.
/// Set ONEDNN_MAX_CPU_ISA yourself (e.g. ALL) to lift the cap where the faster kernels are correct.
/// oneDNN reads the variable once, at its first kernel, so this runs when Core loads, before any tensor exists.
/// </summary>
public static class OneDnnGuard
{
    public const string Variable = "ONEDNN_MAX_CPU_ISA";
    public const string SafeLevel = "SSE41";

    [SuppressMessage("Usage", "CA2255", Justification = "must run before libtorch's first convolution, in every host (CLI, tests, benchmarks)")]
    [ModuleInitializer]
    internal static void Apply() => Ensure();

    private static bool? _userChosen;

    /// <summary>Whether the level in force is the user's rather than the safe default (decided when Core loaded).</summary>
    public static bool UserChosen => _userChosen ?? false;

    /// <summary>The level in force: the user's, or the safe default this sets.</summary>
    public static string Ensure()
    {
        string? chosen = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrEmpty(chosen))
        {
            _userChosen ??= true;
            return chosen;
        }
        _userChosen = false;
        // .NET keeps its own copy of the environment on Unix; native getenv (oneDNN's) sees only libc's.
        if (!OperatingSystem.IsWindows()) _ = SetEnv(Variable, SafeLevel, 0);
        Environment.SetEnvironmentVariable(Variable, SafeLevel);
        return SafeLevel;
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
