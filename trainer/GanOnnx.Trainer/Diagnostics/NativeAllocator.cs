using System.Runtime.InteropServices;

namespace GanOnnx.Trainer.Diagnostics;

/// <summary>
/// Keeps libtorch's large CPU buffers in glibc's heap instead of fresh memory maps. libtorch frees every activation
/// after each step and allocates it again in the next; with glibc's defaults each buffer over the (adaptive) mmap
/// threshold is a new mapping whose pages all fault in again, and freed heap tops are trimmed back to the OS.
/// Measured on the project's 2-core VM, DCGAN 28×28 at batch 64: 2.0–3.4 → 4.3–4.4 steps/s (three runs each).
/// </summary>
public static partial class NativeAllocator
{
    private const int TrimThreshold = -1; // M_TRIM_THRESHOLD
    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD

    /// <summary>The mmap threshold set: glibc's ceiling on 64-bit (larger buffers are still mapped).</summary>
    public const int MmapThresholdBytes = 32 * 1024 * 1024;
    /// <summary>Free memory at the top of the heap kept for reuse instead of returned to the OS.</summary>
    public const int TrimThresholdBytes = 1024 * 1024 * 1024;

    /// <summary>
    /// On Linux with glibc, sets the mmap and trim thresholds (both: either alone is slower than the defaults) unless the
    /// user set <c>MALLOC_MMAP_THRESHOLD_</c> or <c>MALLOC_TRIM_THRESHOLD_</c>. Returns whether it changed anything;
    /// elsewhere (Windows, macOS, musl) it does nothing. The resident memory of a run stays flat at its peak.
    /// </summary>
    public static bool KeepLargeBuffersInHeap()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null) return false;
        try
        {
            return Mallopt(MmapThreshold, MmapThresholdBytes) == 1 & Mallopt(TrimThreshold, TrimThresholdBytes) == 1;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);
}
