using System.Globalization;
using GanOnnx.Diagnostics;
using GanOnnx.Imaging;
using GanOnnx.Runtime;

namespace GanOnnx.Cli;

/// <summary>
/// The batch-export bar of <c>ganonnx bench --files N</c>: images per second of <c>ganonnx generate</c> writing N PNG files
/// (its default pipeline for the thread budget) against plain ONNX Runtime inference of the same file, with no files, at
/// the same batch size and thread count (with no count given, the processor count on both sides), measured in the same
/// run. The plain inference is timed before the files and again halfway through them (the second half of the files
/// continues the job; <c>bench</c> asks for at least 2), and the files are compared with the mean of the two: on a shared
/// machine the speed drifts by ±10 % within a minute, and one plain figure taken before the files compared a different
/// moment's machine.
/// </summary>
internal sealed record FilesComparison(long Files, int Batch, int Threads, string Png, double PlainBeforeImagesPerSecond, double PlainHalfwayImagesPerSecond,
    double GenerateImagesPerSecond, double InferenceSeconds, double EncodeSeconds, int SubPixel = 0)
{
    /// <summary>The mean of the two plain measurements.</summary>
    public double PlainImagesPerSecond => (PlainBeforeImagesPerSecond + PlainHalfwayImagesPerSecond) / 2;

    /// <summary>Files per second against <see cref="PlainImagesPerSecond"/>: the bar is 1.0.</summary>
    public double Ratio => GenerateImagesPerSecond / PlainImagesPerSecond;

    public static FilesComparison Measure(string modelPath, long files, int batch, int threads, string? folder, BenchmarkSettings settings,
        PngCompression png = PngCompression.Small, SubPixelMode subPixel = SubPixelMode.Auto)
    {
        // "Automatic" is the processor count on both sides: ONNX Runtime's own default can be fewer threads (one on the
        // project's 2-vCPU machine, against generate's two workers), which made the comparison one of unequal threads.
        threads = threads == 0 ? Environment.ProcessorCount : threads;
        double Plain() => InferenceBenchmark.Measure(() => new PlainOnnxRuntimeTarget(modelPath, threads), batch, threads, settings).ImagesPerSecond;
        folder = Path.Combine(folder ?? Path.GetTempPath(), "ganonnx-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var pipeline = ExportPipeline.For(ExecutionProvider.Cpu, threads);
            using var session = GeneratorSession.Load(modelPath, pipeline.Apply(new GeneratorOptions { MaxBatchSize = batch, SubPixel = subPixel }));
            BatchExportResult Export(long start, long count) => BatchExporter.RunAsync(session, new BatchExportOptions
            {
                Count = count, StartIndex = start, Folder = folder, Grid = false, EncoderThreads = pipeline.EncoderThreads,
                InferenceWorkers = pipeline.InferenceWorkers, PngCompression = png,
            }).GetAwaiter().GetResult();

            // Warm-up, as the plain side gets its warm-up calls: the first export in a process ran 10–20 % slower than
            // the next (JIT tiers, the thread pool, the encoders' set-up), which made the order of --png-compression
            // decide the ratios (measured 2026-12-04: compressed 0.87× first, 1.01× second). Its files are not counted.
            BatchExporter.RunAsync(session, new BatchExportOptions
            {
                Count = Math.Min(files, 4L * batch), Folder = folder + "-warmup", Grid = false, EncoderThreads = pipeline.EncoderThreads,
                InferenceWorkers = pipeline.InferenceWorkers, PngCompression = png,
            }).GetAwaiter().GetResult();
            Directory.Delete(folder + "-warmup", recursive: true);
            var before = Plain();
            var half = files / 2;
            var first = Export(0, half);
            var halfway = Plain();
            var second = Export(half, files - half);
            var seconds = first.Elapsed.TotalSeconds + second.Elapsed.TotalSeconds;
            return new FilesComparison(files, batch, threads, png == PngCompression.None ? "stored" : "compressed", before, halfway,
                (first.Written + second.Written) / Math.Max(seconds, 1e-9),
                (first.InferenceTime + second.InferenceTime).TotalSeconds, (first.EncodeTime + second.EncodeTime).TotalSeconds, session.SubPixelRewrites);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            if (Directory.Exists(folder + "-warmup")) Directory.Delete(folder + "-warmup", recursive: true);
        }
    }

    public override string ToString()
    {
        var graphs = SubPixel > 0
            ? $"'generate' with {SubPixel} ConvTranspose layers as (sub-pixel) convolutions, the peer with the file's own graph"
            : "the file's own graph on both sides";
        return string.Create(CultureInfo.InvariantCulture,
            $"files: 'generate' wrote {Files} PNG files ({Png}) at {GenerateImagesPerSecond:F0} images/s = {Ratio:F2}× plain ONNX Runtime " +
            $"inference with no files ({PlainImagesPerSecond:F0} images/s: {PlainBeforeImagesPerSecond:F0} before the files, {PlainHalfwayImagesPerSecond:F0} halfway), " +
            $"batch {Batch}, {Threads} threads on both sides, {graphs} " +
            $"(inference {InferenceSeconds:F2} s, encoding and writing {EncodeSeconds:F2} s across threads)");
    }
}
