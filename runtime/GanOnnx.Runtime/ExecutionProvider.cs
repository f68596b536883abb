namespace GanOnnx.Runtime;

/// <summary>Which ONNX Runtime execution provider runs the generator.</summary>
public enum ExecutionProvider
{
    /// <summary>CUDA if it loads, else DirectML if it loads, else the CPU; <see cref="GeneratorSession.ProviderReport"/> says why.</summary>
    Auto,
    /// <summary>The CPU provider (package Microsoft.ML.OnnxRuntime).</summary>
    Cpu,
    /// <summary>NVIDIA CUDA (package Microsoft.ML.OnnxRuntime.Gpu).</summary>
    Cuda,
    /// <summary>DirectML on Windows (package Microsoft.ML.OnnxRuntime.DirectML).</summary>
    DirectMl,
}
