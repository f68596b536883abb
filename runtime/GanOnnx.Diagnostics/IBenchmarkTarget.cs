namespace GanOnnx.Diagnostics;

/// <summary>Something that generates a batch of images and can be timed: an ONNX Runtime session, or a framework's eager pass.</summary>
public interface IBenchmarkTarget : IDisposable
{
    /// <summary>Short name for reports, e.g. "onnxruntime-cpu" or "torchsharp-eager".</summary>
    string Name { get; }

    /// <summary>Generates <paramref name="batch"/> images (latents sampled as the runtime does); the result is discarded.</summary>
    void Run(int batch);
}
