using GanOnnx.Trainer.Diagnostics;

namespace GanOnnx.Trainer.Tests;

[NonParallelizable]
public class NativeAllocatorTests
{
    [Test]
    public void OnGlibcTheThresholdsAreSet()
    {
        Assume.That(OperatingSystem.IsLinux() && (File.Exists("/lib/x86_64-linux-gnu/libc.so.6") || File.Exists("/lib/aarch64-linux-gnu/libc.so.6")),
            "glibc Linux (Debian/Ubuntu layout)");
        Assert.That(NativeAllocator.KeepLargeBuffersInHeap(), Is.True);
    }

    [Test]
    public void ThresholdsTheUserSetAreLeftAlone()
    {
        var before = Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_");
        Environment.SetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_", "131072");
        try
        {
            Assert.That(NativeAllocator.KeepLargeBuffersInHeap(), Is.False);
        }
        finally
        {
            Environment.SetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_", before);
        }
    }
}
