using System.Runtime.InteropServices;
using System.Text;

namespace DefenseBench.Core.Native;

/// <summary>A CUDA device as the driver describes it.</summary>
public sealed record CudaDeviceInfo(int Ordinal, string Name, long TotalBytes);

/// <summary>
/// What TorchSharp 0.107 does not expose: a CUDA device's name and memory, and the memory in use, read from the CUDA
/// driver API (libcuda, whose entry points have kept their signatures since CUDA 3.2). libtorch has loaded the driver
/// already wherever CUDA works; everywhere else every call here returns null.
/// </summary>
public static class CudaDriver
{
    private const string Library = "libcuda.so.1";

    public static CudaDeviceInfo? Describe(int ordinal)
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            if (cuInit(0) != 0 || cuDeviceGet(out int device, ordinal) != 0) return null;
            var name = new byte[256];
            if (cuDeviceGetName(name, name.Length, device) != 0 || cuDeviceTotalMem(out nuint total, device) != 0) return null;
            int end = Array.IndexOf(name, (byte)0);
            return new CudaDeviceInfo(ordinal, Encoding.ASCII.GetString(name, 0, end < 0 ? name.Length : end), (long)total);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Bytes in use on the device of the calling thread's current context (total − free), or null without one.</summary>
    public static long? UsedBytes()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            return cuMemGetInfo(out nuint free, out nuint total) == 0 ? (long)(total - free) : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [DllImport(Library)]
    private static extern int cuInit(uint flags);

    [DllImport(Library)]
    private static extern int cuDeviceGet(out int device, int ordinal);

    [DllImport(Library)]
    private static extern int cuDeviceGetName([Out] byte[] name, int length, int device);

    [DllImport(Library, EntryPoint = "cuDeviceTotalMem_v2")]
    private static extern int cuDeviceTotalMem(out nuint bytes, int device);

    [DllImport(Library, EntryPoint = "cuMemGetInfo_v2")]
    private static extern int cuMemGetInfo(out nuint free, out nuint total);
}
