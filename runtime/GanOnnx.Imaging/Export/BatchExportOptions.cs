using GanOnnx.Runtime;

namespace GanOnnx.Imaging;

/// <summary>What a batch export writes. Validated by <see cref="Validate"/>.</summary>
public sealed record BatchExportOptions
{
    /// <summary>Images in the whole job (all shards). Must be at least 1.</summary>
    public required long Count { get; init; }
    /// <summary>Seed of the latents.</summary>
    public long Seed { get; init; } = 42;
    /// <summary>Index of the job's first image. Default 0.</summary>
    public long StartIndex { get; init; }
    /// <summary>Output folder.</summary>
    public required string Folder { get; init; }
    /// <summary>File format. Default PNG.</summary>
    public ImageFileFormat Format { get; init; } = ImageFileFormat.Png;
    /// <summary>JPEG/WebP quality, 1–100. Default 95.</summary>
    public int Quality { get; init; } = 95;
    /// <summary>
    /// PNG files compressed (<see cref="PngCompression.Small"/>, the default) or stored (<see cref="PngCompression.None"/>:
    /// ≈ 6× faster to encode, ≈ 2.5× the bytes; for exports where encoding is the bottleneck). Lossless either way, so it
    /// is not part of what the manifest says made a file: a resume with the other setting keeps the files already there.
    /// </summary>
    public PngCompression PngCompression { get; init; } = PngCompression.Small;
    /// <summary>Which slice of the job this process writes. Default the whole job.</summary>
    public Shard Shard { get; init; } = Shard.All;
    /// <summary>Class of every image (conditional models); null = image k gets class k mod classes.</summary>
    public int? ClassIndex { get; init; }
    /// <summary>Write grid.png of the job's first images (by shard 0 only; a column per class for conditional models). Default true.</summary>
    public bool Grid { get; init; } = true;
    /// <summary>Caption each grid tile with its class name (conditional models) or index. Default false.</summary>
    public bool GridLabels { get; init; }
    /// <summary>Threads that encode and write images while inference runs. Default: the processor count.</summary>
    public int EncoderThreads { get; init; } = Environment.ProcessorCount;
    /// <summary>
    /// Threads that run inference at once, each on its own batches (the session is thread-safe). On a CPU provider with
    /// one ONNX Runtime thread each, this keeps every core busy where one call with many threads would wait at each
    /// operator's barrier. Default 1.
    /// </summary>
    public int InferenceWorkers { get; init; } = 1;
    /// <summary>
    /// Replace files of this job that the folder's manifest says another model or other options made. Default false:
    /// such a folder is refused, naming what made its files.
    /// </summary>
    public bool Overwrite { get; init; }
    /// <summary>Batches that may wait between inference and encoding (bounds memory). Default 4.</summary>
    public int QueueBatches { get; init; } = 4;

    /// <summary>Throws <see cref="GanOnnxException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Folder)) throw new GanOnnxException("BatchExportOptions.Folder is empty; give the folder to write to (it is created if missing).");
        if (Count < 1) throw new GanOnnxException($"BatchExportOptions.Count is {Count}; it must be at least 1.");
        if (StartIndex < 0) throw new GanOnnxException($"BatchExportOptions.StartIndex is {StartIndex}; it must be 0 or more.");
        if (StartIndex > long.MaxValue - Count) throw new GanOnnxException($"BatchExportOptions.StartIndex {StartIndex} + BatchExportOptions.Count {Count} is past the end of the index range: the last index is {long.MaxValue - 1}.");
        if (Quality is < 1 or > 100) throw new GanOnnxException($"BatchExportOptions.Quality is {Quality}; it must be between 1 and 100.");
        if (!Enum.IsDefined(PngCompression)) throw new GanOnnxException($"BatchExportOptions.PngCompression is {PngCompression}; it must be Small or None.");
        if (EncoderThreads is < 1 or > 256) throw new GanOnnxException($"BatchExportOptions.EncoderThreads is {EncoderThreads}; it must be between 1 and 256.");
        if (InferenceWorkers is < 1 or > 256) throw new GanOnnxException($"BatchExportOptions.InferenceWorkers is {InferenceWorkers}; it must be between 1 and 256.");
        if (QueueBatches is < 1 or > 1024) throw new GanOnnxException($"BatchExportOptions.QueueBatches is {QueueBatches}; it must be between 1 and 1024.");
    }
}
