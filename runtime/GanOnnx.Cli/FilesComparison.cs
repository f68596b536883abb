using GanOnnx.Imaging;
using System.Globalization;
using GanOnnx.Diagnostics;
using GanOnnx.Runtime;

namespace GanOnnx.Cli;

/// <summary>
/// The batch-export bar of <c>ganonnx bench --files N</c>: images per second of <c>ganonnx generate</c> writing N PNG files
/// (its default pipeline for the thread budget) against plain ONNX Runtime inference of the same file, with no files, at
/// the same batch size and thread count, measured in the same run.
/// </summary>
internal sealed record FilesComparison(long Files, int Batch, int Threads, PngCompression Png, double PlainImagesPerSecond, double GenerateImagesPerSecond, BatchExportResult Export)
{
    public static FilesComparison Measure(string modelPath, long files, int batch, int threads, string? folder, BenchmarkSettings settings, PngCompression png = PngCompression.Small)
    {
        var plain = InferenceBenchmark.Measure(() => new PlainOnnxRuntimeTarget(modelPath, threads), batch, threads, settings);
        folder = Path.Combine(folder ?? Path.GetTempPath(), "ganonnx-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var pipeline = ExportPipeline.For(ExecutionProvider.Cpu, threads == 0 ? Environment.ProcessorCount : threads);
            using var session = GeneratorSession.Load(modelPath, pipeline.Apply(new GeneratorOptions { MaxBatchSize = batch }));
            var export = BatchExporter.RunAsync(session, new BatchExportOptions
            {
                Count = files, Folder = folder, Grid = false, EncoderThreads = pipeline.EncoderThreads, InferenceWorkers = pipeline.InferenceWorkers,
                PngCompression = png,
            }).GetAwaiter().GetResult();
            return new FilesComparison(files, batch, threads, png, plain.ImagesPerSecond, export.ImagesPerSecond, export);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"files: 'generate' wrote {Files} PNG files ({(Png == PngCompression.None ? "stored" : "compressed")}) at {GenerateImagesPerSecond:F0} images/s = {GenerateImagesPerSecond / PlainImagesPerSecond:F2}× plain ONNX Runtime " +
        $"inference with no files ({PlainImagesPerSecond:F0} images/s), batch {Batch}, {(Threads == 0 ? "automatic" : Threads.ToString(CultureInfo.InvariantCulture))} threads " +
        $"(inference {Export.InferenceTime.TotalSeconds:F2} s, encoding and writing {Export.EncodeTime.TotalSeconds:F2} s across threads)");
}
