using GanOnnx.Runtime.Cuda;

namespace GanOnnx.Runtime.Tests;

public class CudaPreflightTests
{
    [Test]
    public void TheCudaProviderOptionsFollowTheSettings()
    {
        // TF32 on and exhaustive search are ONNX Runtime's defaults, written out so that a default run says what it ran.
        Assert.That(new GeneratorOptions().CudaProviderOptions(), Is.EquivalentTo(new Dictionary<string, string>
        {
            ["device_id"] = "0", ["cudnn_conv_algo_search"] = "EXHAUSTIVE", ["use_tf32"] = "1",
        }));
        var tuned = new GeneratorOptions
        {
            DeviceId = 2, CudaTf32 = false, CudaPreferNhwc = true, CudnnExhaustiveSearch = false, CudaGraph = true, CudaMemoryLimitBytes = 1L << 33,
        };
        Assert.That(tuned.CudaProviderOptions(), Is.EquivalentTo(new Dictionary<string, string>
        {
            ["device_id"] = "2", ["cudnn_conv_algo_search"] = "HEURISTIC", ["use_tf32"] = "0", ["prefer_nhwc"] = "1",
            ["enable_cuda_graph"] = "1", ["gpu_mem_limit"] = "8589934592",
        }));
    }

    [Test]
    public void WithoutCudaTheReportNamesEveryMissingLibraryAndWhereItLooked()
    {
        if (CudaPreflight.Probe().Ready) Assert.Ignore("This machine has CUDA.");
        var folder = TestPaths.NewTempFolder();
        var report = CudaPreflight.Probe([folder]);
        Assert.That(report.Ready, Is.False);
        Assert.That(report.SearchedFolders, Does.Contain(Path.GetFullPath(folder)));
        Assert.That(report.Libraries.Select(l => l.Library.Component).Distinct(),
            Is.SupersetOf(new[] { "NVIDIA driver", "CUDA runtime", "cuBLAS", "cuRAND", "cuDNN" }));
        if (OperatingSystem.IsLinux())
            Assert.That(report.Problem, Does.Contain("libcublasLt.so.13").And.Contain("libcudnn.so.9").And.Contain(Path.GetFullPath(folder))
                .And.Contain(CudaPreflight.PathVariable));
    }

    [Test]
    public void APythonEnvironmentsNvidiaFolderIsSearchedThroughItsLibFolders()
    {
        var nvidia = TestPaths.NewTempFolder();
        foreach (var package in new[] { "cudnn", "cublas", "cuda_runtime" }) Directory.CreateDirectory(Path.Combine(nvidia, package, "lib"));
        Directory.CreateDirectory(Path.Combine(nvidia, "lib64"));
        var folders = CudaPreflight.ExpandFolders([nvidia, Path.Combine(nvidia, "missing")]);
        Assert.That(folders, Is.EqualTo(new[]
        {
            nvidia, Path.Combine(nvidia, "lib64"),
            Path.Combine(nvidia, "cublas", "lib"), Path.Combine(nvidia, "cuda_runtime", "lib"), Path.Combine(nvidia, "cudnn", "lib"),
            Path.Combine(nvidia, "missing"),
        }));
    }

    [Test]
    public void TheLibrariesComeInDependencyOrder()
    {
        var names = CudaLibrary.ForThisSystem().Select(l => l.FileName).ToList();
        int At(string part) => names.FindIndex(n => n.Contains(part, StringComparison.Ordinal));
        Assert.That(At("cudart"), Is.LessThan(At("cublasLt")));
        Assert.That(At("cublasLt"), Is.LessThan(names.FindIndex(n => n.StartsWith(OperatingSystem.IsWindows() ? "cublas64" : "libcublas.", StringComparison.Ordinal))));
        Assert.That(At("cudnn_graph"), Is.LessThan(At("cudnn_ops")));
        Assert.That(At("cudnn_ops"), Is.LessThan(At("cudnn_cnn")));
        Assert.That(names[^1], Does.StartWith(OperatingSystem.IsWindows() ? "cudnn64" : "libcudnn.so"));
    }
}
