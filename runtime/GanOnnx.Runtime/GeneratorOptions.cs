namespace GanOnnx.Runtime;

/// <summary>How a <see cref="GeneratorSession"/> runs. Validated once, when the session is created.</summary>
public sealed record GeneratorOptions
{
    /// <summary>Execution provider. Default <see cref="ExecutionProvider.Cpu"/>.</summary>
    public ExecutionProvider Provider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>GPU index for CUDA and DirectML. Default 0.</summary>
    public int DeviceId { get; init; }

    /// <summary>Largest batch one inference call runs; larger requests are split. Default 64, at least 1, at most 65,536.</summary>
    public int MaxBatchSize { get; init; } = 64;

    /// <summary>Threads ONNX Runtime uses inside one operator on the CPU; 0 lets ONNX Runtime choose. Default 0.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>CUDA: search for the fastest cuDNN convolution algorithm (slower first run). Default true.</summary>
    public bool CudnnExhaustiveSearch { get; init; } = true;

    /// <summary>CUDA: limit of the memory arena in bytes; 0 = no limit. Default 0.</summary>
    public long CudaMemoryLimitBytes { get; init; }

    /// <summary>Truncation ψ in (0, 1] applied to sampled latents; 1 = none. Default 1.</summary>
    public float Truncation { get; init; } = 1f;

    /// <summary>Throws <see cref="GanOnnxException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Provider))
            throw new GanOnnxException($"{nameof(Provider)} is {(int)Provider}; allowed: Auto, Cpu, Cuda, DirectMl.");
        if (DeviceId < 0)
            throw new GanOnnxException($"{nameof(DeviceId)} is {DeviceId}; it must be 0 or more.");
        if (MaxBatchSize is < 1 or > 65536)
            throw new GanOnnxException($"{nameof(MaxBatchSize)} is {MaxBatchSize}; it must be between 1 and 65536.");
        if (IntraOpThreads < 0)
            throw new GanOnnxException($"{nameof(IntraOpThreads)} is {IntraOpThreads}; it must be 0 (automatic) or more.");
        if (CudaMemoryLimitBytes < 0)
            throw new GanOnnxException($"{nameof(CudaMemoryLimitBytes)} is {CudaMemoryLimitBytes}; it must be 0 (no limit) or more.");
        if (!(Truncation > 0f && Truncation <= 1f))
            throw new GanOnnxException($"{nameof(Truncation)} is {Truncation}; it must be in (0, 1].");
    }
}
