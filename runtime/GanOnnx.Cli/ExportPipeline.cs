using GanOnnx.Runtime;

namespace GanOnnx.Cli;

/// <summary>
/// How <c>ganonnx generate</c> spends a thread budget: inference workers (each running whole batches), ONNX Runtime threads
/// inside each call, and encoder threads. The session always ends in 8-bit NHWC pixels, so the value mapping runs inside
/// the graph, and its CPU threads do not spin, so that waiting inference threads leave the cores to the encoders.
/// </summary>
internal sealed record ExportPipeline(int InferenceWorkers, int IntraOpThreads, int EncoderThreads)
{
    /// <summary>
    /// The default for <paramref name="threads"/> threads. On the CPU: one single-threaded inference worker per thread, so
    /// no call waits at a barrier for another thread, and as many encoders (they sleep while the queue is empty). On a GPU:
    /// two workers (one call's copies overlap the other's kernels) with ONNX Runtime's own threads, and the encoders.
    /// </summary>
    public static ExportPipeline For(ExecutionProvider provider, int threads) => provider == ExecutionProvider.Cpu
        ? new ExportPipeline(InferenceWorkers: Math.Max(1, threads), IntraOpThreads: 1, EncoderThreads: Math.Max(1, threads))
        : new ExportPipeline(InferenceWorkers: 2, IntraOpThreads: 0, EncoderThreads: Math.Max(1, threads));

    /// <summary><paramref name="options"/> with this pipeline's session settings.</summary>
    public GeneratorOptions Apply(GeneratorOptions options) => options with
    {
        PixelOutput = PixelLayout.Nhwc,
        IntraOpThreads = IntraOpThreads,
        IntraOpSpinning = false,
    };
}
