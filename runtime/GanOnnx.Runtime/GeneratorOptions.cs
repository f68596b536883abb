namespace GanOnnx.Runtime;

/// <summary>How a <see cref="GeneratorSession"/> runs. Validated once, when the session is created.</summary>
public sealed record GeneratorOptions
{
    /// <summary>Execution provider. Default <see cref="ExecutionProvider.Cpu"/>.</summary>
    public ExecutionProvider Provider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>GPU index for CUDA and DirectML. Default 0.</summary>
    public int DeviceId { get; init; }

    /// <summary>The largest <see cref="MaxBatchSize"/> allowed.</summary>
    public const int BatchSizeLimit = 65536;

    /// <summary>Largest batch one inference call runs; larger requests are split. Default 64, at least 1, at most <see cref="BatchSizeLimit"/>.</summary>
    public int MaxBatchSize { get; init; } = 64;

    /// <summary>
    /// Threads ONNX Runtime uses inside one operator on the CPU. Default 0, automatic: on Linux one per physical core, at
    /// most <see cref="Environment.ProcessorCount"/> (the process's CPU limit); elsewhere ONNX Runtime's own choice.
    /// </summary>
    public int IntraOpThreads { get; init; }

    /// <summary>What <see cref="IntraOpThreads"/> 0 means on this machine: a thread count, or 0 where ONNX Runtime chooses.</summary>
    public static int AutomaticIntraOpThreads => CpuTopology.DefaultIntraOpThreads;

    /// <summary>
    /// Whether ONNX Runtime's CPU threads spin while they wait for work (faster hand-over, but the spinning takes cores
    /// from other work in the process, such as image encoders). Default true; batch export turns it off.
    /// </summary>
    public bool IntraOpSpinning { get; init; } = true;

    /// <summary>CUDA: search for the fastest cuDNN convolution algorithm (slower first run). Default true.</summary>
    public bool CudnnExhaustiveSearch { get; init; } = true;

    /// <summary>CUDA: limit of the memory arena in bytes; 0 = no limit. Default 0.</summary>
    public long CudaMemoryLimitBytes { get; init; }

    /// <summary>
    /// CUDA: folders holding the CUDA and cuDNN libraries (a CUDA toolkit's lib64, a Python environment's
    /// site-packages/nvidia, …), searched before the system's path and loaded in dependency order before the provider is
    /// appended (<see cref="Cuda.CudaPreflight"/>); the GANONNX_CUDA_PATH environment variable adds more. Default none.
    /// </summary>
    public IReadOnlyList<string> CudaLibraryFolders { get; init; } = [];

    /// <summary>
    /// CUDA: capture a CUDA graph per batch size and replay it (ONNX Runtime's <c>enable_cuda_graph</c>), which removes
    /// the per-kernel launch cost; needs every node of the model on the CUDA provider. Default false.
    /// </summary>
    public bool CudaGraph { get; init; }

    /// <summary>
    /// CUDA: let cuDNN and cuBLAS compute float32 convolutions and matrix products on TF32 tensor cores (ONNX Runtime's
    /// <c>use_tf32</c>; Ampere and newer GPUs), as ONNX Runtime and PyTorch's convolutions do by default. Faster, but
    /// images then differ from the CPU's by up to about 0.004 on a 0–1 scale (one 8-bit level; measured on an H200);
    /// false gives full float32 (measured within 4.8e-7 of the CPU). Default true.
    /// </summary>
    public bool CudaTf32 { get; init; } = true;

    /// <summary>
    /// CUDA: run convolutions in NHWC layout where the provider has NHWC kernels (ONNX Runtime's <c>prefer_nhwc</c>),
    /// which suits tensor cores; the model's inputs and outputs keep their layout. Default false.
    /// </summary>
    public bool CudaPreferNhwc { get; init; }

    /// <summary>
    /// The options these settings give ONNX Runtime's CUDA provider (device, cuDNN search, TF32, layout, CUDA graphs,
    /// memory limit), as its <c>OrtCUDAProviderOptions.UpdateOptions</c> takes them. The benchmark's plain peer is
    /// configured with the same, so that both sides run the same kernels.
    /// </summary>
    public Dictionary<string, string> CudaProviderOptions()
    {
        static string Text(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var settings = new Dictionary<string, string>
        {
            ["device_id"] = Text(DeviceId),
            ["cudnn_conv_algo_search"] = CudnnExhaustiveSearch ? "EXHAUSTIVE" : "HEURISTIC",
            ["use_tf32"] = CudaTf32 ? "1" : "0",
        };
        if (CudaPreferNhwc) settings["prefer_nhwc"] = "1";
        if (CudaGraph) settings["enable_cuda_graph"] = "1";
        if (CudaMemoryLimitBytes > 0) settings["gpu_mem_limit"] = Text(CudaMemoryLimitBytes);
        return settings;
    }

    /// <summary>
    /// Adds an 8-bit pixel output to the model (<see cref="GeneratorSession.GeneratePixels"/>): the mapping to 0…255 runs
    /// inside the graph, so on CUDA a quarter of the bytes cross to the host and no CPU time goes to it. The float output
    /// stays available. Default <see cref="PixelLayout.None"/>.
    /// </summary>
    public PixelLayout PixelOutput { get; init; } = PixelLayout.None;

    /// <summary>
    /// Whether ConvTranspose layers run as (sub-pixel) convolutions (<see cref="SubPixelMode"/>): on the CPU about 1.6×
    /// faster for <c>mnist-dcgan</c> and 2.2× for <c>mnist-keras-dcgan</c>, with images the same up to float32 rounding.
    /// Default <see cref="SubPixelMode.Auto"/> (the CPU provider only); <see cref="GeneratorSession.SubPixelRewrites"/>
    /// says how many layers of the model were rewritten.
    /// </summary>
    public SubPixelMode SubPixel { get; init; } = SubPixelMode.Auto;

    /// <summary>Whether <see cref="SubPixel"/> asks for the rewrite on <paramref name="provider"/> (the provider in use).</summary>
    public bool UsesSubPixel(ExecutionProvider provider) =>
        SubPixel == SubPixelMode.On || (SubPixel == SubPixelMode.Auto && provider == ExecutionProvider.Cpu);

    /// <summary>Truncation ψ in (0, 1] applied to sampled latents; 1 = none. Default 1.</summary>
    public float Truncation { get; init; } = 1f;

    /// <summary>Throws <see cref="GanOnnxException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Provider))
            throw new GanOnnxException($"{nameof(Provider)} is {(int)Provider}; allowed: Auto, Cpu, Cuda, DirectMl.");
        if (DeviceId < 0)
            throw new GanOnnxException($"{nameof(DeviceId)} is {DeviceId}; it must be 0 or more.");
        if (MaxBatchSize is < 1 or > BatchSizeLimit)
            throw new GanOnnxException($"{nameof(MaxBatchSize)} is {MaxBatchSize}; it must be between 1 and {BatchSizeLimit}.");
        if (IntraOpThreads < 0)
            throw new GanOnnxException($"{nameof(IntraOpThreads)} is {IntraOpThreads}; it must be 0 (automatic) or more.");
        if (CudaMemoryLimitBytes < 0)
            throw new GanOnnxException($"{nameof(CudaMemoryLimitBytes)} is {CudaMemoryLimitBytes}; it must be 0 (no limit) or more.");
        if (!Enum.IsDefined(PixelOutput))
            throw new GanOnnxException($"{nameof(PixelOutput)} is {(int)PixelOutput}; allowed: None, Nhwc, Nchw.");
        if (!Enum.IsDefined(SubPixel))
            throw new GanOnnxException($"{nameof(SubPixel)} is {(int)SubPixel}; allowed: Auto, On, Off.");
        if (CudaGraph && Provider is not (ExecutionProvider.Cuda or ExecutionProvider.Auto))
            throw new GanOnnxException($"{nameof(CudaGraph)} is true but {nameof(Provider)} is {Provider}; CUDA graphs need Provider Cuda (or Auto).");
        if (CudaLibraryFolders is null || CudaLibraryFolders.Any(string.IsNullOrWhiteSpace))
            throw new GanOnnxException($"{nameof(CudaLibraryFolders)} must be a list of folder paths, without empty entries.");
        if (!(Truncation > 0f && Truncation <= 1f))
            throw new GanOnnxException($"{nameof(Truncation)} is {Truncation}; it must be in (0, 1].");
    }
}
