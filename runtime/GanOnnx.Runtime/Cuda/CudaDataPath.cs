using Microsoft.ML.OnnxRuntime;

namespace GanOnnx.Runtime.Cuda;

/// <summary>
/// How a session on the CUDA provider moves data: inputs and outputs bound to device buffers that this process
/// allocates once per batch size, host buffers page-locked for DMA, and, with <see cref="GeneratorOptions.CudaGraph"/>, one
/// CUDA graph per bound buffer set (ONNX Runtime needs fixed device addresses for a captured graph to replay).
/// </summary>
internal sealed class CudaDataPath : IDisposable
{
    private int _nextGraphId;

    public CudaDataPath(int deviceId, bool graphs)
    {
        Runtime = CudaRuntime.Load();
        Runtime.SetDevice(deviceId);
        Graphs = graphs;
        DeviceMemory = new OrtMemoryInfo("Cuda", OrtAllocatorType.DeviceAllocator, deviceId, OrtMemType.Default);
    }

    public CudaRuntime Runtime { get; }
    public bool Graphs { get; }
    public OrtMemoryInfo DeviceMemory { get; }

    /// <summary>A new graph id (ONNX Runtime's <c>gpu_graph_id</c>), unique in this session.</summary>
    public int NextGraphId() => Interlocked.Increment(ref _nextGraphId);

    public void Dispose() => DeviceMemory.Dispose();
}
