namespace GanOnnx.Diagnostics;

/// <summary>Timings of one target × batch size × thread count. Times in milliseconds.</summary>
public sealed record BenchmarkResult
{
    /// <summary>Target name.</summary>
    public required string Target { get; init; }
    /// <summary>The model file's name (empty when not applicable).</summary>
    public string Model { get; init; } = "";
    /// <summary>What a call returns: "float" (the model's float32 NCHW) or "uint8" (pixels mapped inside the graph).</summary>
    public string Output { get; init; } = "float";
    /// <summary>Whether CUDA graphs were captured and replayed.</summary>
    public bool CudaGraph { get; init; }
    /// <summary>How many ConvTranspose layers ran as (sub-pixel) convolutions (<c>GeneratorSession.SubPixelRewrites</c>); null for the plain peer.</summary>
    public int? SubPixel { get; init; }
    /// <summary>Whether CUDA float32 work could use TF32 tensor cores (<c>GeneratorOptions.CudaTf32</c>); null off CUDA.</summary>
    public bool? Tf32 { get; init; }
    /// <summary>Whether CUDA convolutions preferred NHWC layout (<c>GeneratorOptions.CudaPreferNhwc</c>); null off CUDA.</summary>
    public bool? CudaNhwc { get; init; }
    /// <summary>Whether cuDNN timed every convolution algorithm (<c>GeneratorOptions.CudnnExhaustiveSearch</c>); null off CUDA.</summary>
    public bool? CudnnExhaustive { get; init; }
    /// <summary>Device memory in use after the timed calls, in MiB (all processes on the GPU); null off the GPU.</summary>
    public double? GpuMemoryMiB { get; init; }
    /// <summary>Images per call.</summary>
    public required int Batch { get; init; }
    /// <summary>Threads inside one call (0 = the engine's default).</summary>
    public required int Threads { get; init; }
    /// <summary>Time to create the session or load the model.</summary>
    public double CreateMs { get; init; }
    /// <summary>Time of the first call (includes lazy initialisation).</summary>
    public double FirstRunMs { get; init; }
    /// <summary>Timed calls after warm-up.</summary>
    public int Iterations { get; init; }
    /// <summary>Median latency of one call.</summary>
    public double P50Ms { get; init; }
    /// <summary>90th percentile latency.</summary>
    public double P90Ms { get; init; }
    /// <summary>99th percentile latency.</summary>
    public double P99Ms { get; init; }
    /// <summary>Slowest call.</summary>
    public double MaxMs { get; init; }
    /// <summary>Images per second over the timed calls.</summary>
    public double ImagesPerSecond { get; init; }
    /// <summary>Peak working set of the process so far, in MiB (monotonic across a run).</summary>
    public double PeakMemoryMiB { get; init; }
    /// <summary>Every timed latency, in order (for histograms).</summary>
    public IReadOnlyList<double> LatenciesMs { get; init; } = [];
}
