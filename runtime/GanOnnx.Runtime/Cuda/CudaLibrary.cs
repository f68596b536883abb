namespace GanOnnx.Runtime.Cuda;

/// <summary>One native library that ONNX Runtime's CUDA provider needs, by its file name on this operating system.</summary>
/// <param name="FileName">The name the loader asks for (its soname on Linux), e.g. <c>libcublasLt.so.13</c>.</param>
/// <param name="Component">What it belongs to: driver, CUDA runtime, cuBLAS, cuDNN, …</param>
/// <param name="Required">False for libraries ONNX Runtime loads only for some operators (cuFFT, NVRTC).</param>
public sealed record CudaLibrary(string FileName, string Component, bool Required = true)
{
    /// <summary>
    /// What ONNX Runtime 1.31's CUDA provider loads (CUDA 13, cuDNN 9), in dependency order: each library's own
    /// dependencies come before it, so loading them in this order from any folder lets the next one find them.
    /// </summary>
    public static IReadOnlyList<CudaLibrary> ForThisSystem() => OperatingSystem.IsWindows() ? Windows : Linux;

    private static readonly CudaLibrary[] Linux =
    [
        new("libcuda.so.1", "NVIDIA driver"),
        new("libcudart.so.13", "CUDA runtime"),
        new("libcublasLt.so.13", "cuBLAS"),
        new("libcublas.so.13", "cuBLAS"),
        new("libcurand.so.10", "cuRAND"),
        new("libcufft.so.12", "cuFFT", Required: false),
        new("libnvrtc.so.13", "NVRTC", Required: false),
        new("libcudnn_graph.so.9", "cuDNN"),
        new("libcudnn_engines_precompiled.so.9", "cuDNN"),
        new("libcudnn_engines_runtime_compiled.so.9", "cuDNN"),
        new("libcudnn_heuristic.so.9", "cuDNN"),
        new("libcudnn_ops.so.9", "cuDNN"),
        new("libcudnn_cnn.so.9", "cuDNN"),
        new("libcudnn_adv.so.9", "cuDNN"),
        new("libcudnn.so.9", "cuDNN"),
    ];

    private static readonly CudaLibrary[] Windows =
    [
        new("nvcuda.dll", "NVIDIA driver"),
        new("cudart64_13.dll", "CUDA runtime"),
        new("cublasLt64_13.dll", "cuBLAS"),
        new("cublas64_13.dll", "cuBLAS"),
        new("curand64_10.dll", "cuRAND"),
        new("cufft64_12.dll", "cuFFT", Required: false),
        new("nvrtc64_130_0.dll", "NVRTC", Required: false),
        new("cudnn_graph64_9.dll", "cuDNN"),
        new("cudnn_engines_precompiled64_9.dll", "cuDNN"),
        new("cudnn_engines_runtime_compiled64_9.dll", "cuDNN"),
        new("cudnn_heuristic64_9.dll", "cuDNN"),
        new("cudnn_ops64_9.dll", "cuDNN"),
        new("cudnn_cnn64_9.dll", "cuDNN"),
        new("cudnn_adv64_9.dll", "cuDNN"),
        new("cudnn64_9.dll", "cuDNN"),
    ];
}
