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

public class NnpackTests
{
    [Test]
    public void NnpackIsTurnedOffInTheLoadedLibtorch()
    {
        // Without this, libtorch logs "Could not initialize NNPACK! Reason: Unsupported hardware." before each CPU
        // convolution on processors NNPACK refuses (hundreds of lines at the start of a 64×64 run).
        Assume.That(OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64, "linux-x64 libtorch");
        using var warmUp = TorchSharp.torch.zeros(1); // TorchSharp loads libtorch on its first call
        Assert.That(Nnpack.Disable(), Is.True, "the symbols resolve and the switch reads back off");
        Assert.That(Nnpack.Disable(), Is.True, "and again");
    }
}
