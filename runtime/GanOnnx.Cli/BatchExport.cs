using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using GanOnnx.Imaging;
using GanOnnx.Runtime;

namespace GanOnnx.Cli;

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
    /// <summary>Which slice of the job this process writes. Default the whole job.</summary>
    public Shard Shard { get; init; } = Shard.All;
    /// <summary>Class of every image (conditional models); null = image k gets class k mod classes.</summary>
    public int? Label { get; init; }
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
        if (Count < 1) throw new GanOnnxException($"--count is {Count}; it must be at least 1.");
        if (StartIndex < 0) throw new GanOnnxException($"--start-index is {StartIndex}; it must be 0 or more.");
        if (StartIndex > long.MaxValue - Count) throw new GanOnnxException($"--start-index {StartIndex} + --count {Count} is past the last index ({long.MaxValue}).");
        if (Quality is < 1 or > 100) throw new GanOnnxException($"--quality is {Quality}; it must be between 1 and 100.");
        if (EncoderThreads is < 1 or > 256) throw new GanOnnxException($"--threads is {EncoderThreads}; it must be between 1 and 256.");
        if (InferenceWorkers is < 1 or > 256) throw new GanOnnxException($"--inference-workers is {InferenceWorkers}; it must be between 1 and 256.");
        if (QueueBatches is < 1 or > 1024) throw new GanOnnxException($"QueueBatches is {QueueBatches}; it must be between 1 and 1024.");
    }
}

/// <summary>Progress of a batch export.</summary>
public readonly record struct ExportProgress(long Done, long Total, TimeSpan Elapsed);

/// <summary>What a batch export did, and where its time went.</summary>
public sealed record BatchExportResult(long Written, long Skipped, long ShardImages, TimeSpan Elapsed, TimeSpan InferenceTime, TimeSpan EncodeTime, string ManifestPath)
{
    /// <summary>Images written per second of wall time.</summary>
    public double ImagesPerSecond => Written / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// Writes a shard of a batch-export job: inference on one thread feeding a bounded queue, encoding and atomic writes on
/// <see cref="BatchExportOptions.EncoderThreads"/> others, a manifest line per finished file. Run again after a crash, it
/// writes only what is missing; stale temporary files are removed. The same job gives the same names and bytes whatever
/// the sharding.
/// </summary>
public static class BatchExporter
{
    /// <summary>The file name of image <paramref name="index"/>.</summary>
    public static string FileName(long seed, long index, long? label, int digits, ImageFileFormat format) =>
        string.Create(CultureInfo.InvariantCulture,
            $"seed{seed}-{index.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0')}{(label is { } l ? $"-c{l}" : "")}{ImageEncoder.Extension(format)}");

    /// <summary>The manifest's file name for a shard.</summary>
    public static string ManifestName(Shard shard) => shard.Count == 1 ? "manifest.jsonl" : $"manifest-{shard.Index}-of-{shard.Count}.jsonl";

    /// <summary>Runs the export. Throws <see cref="GanOnnxException"/>, <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> on failure.</summary>
    public static async Task<BatchExportResult> RunAsync(GeneratorSession session, BatchExportOptions options, IProgress<ExportProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var contract = session.Contract;
        GanOnnxCli.CheckClassOption(session, options.Label);

        Directory.CreateDirectory(options.Folder);
        // Temporary files left by a killed run never look complete (hidden, ".partial"); remove them when this process is
        // the only writer. Shards may share a folder, so a sharded run leaves other writers' temporary files alone.
        if (options.Shard.Count == 1)
            foreach (var stale in Directory.EnumerateFiles(options.Folder, ".*.partial")) File.Delete(stale);

        var digits = Math.Max(6, (options.StartIndex + options.Count - 1).ToString(CultureInfo.InvariantCulture).Length);
        var (first, length) = options.Shard.Slice(options.StartIndex, options.Count);
        var manifestPath = Path.Combine(options.Folder, ManifestName(options.Shard));
        using var manifest = Manifest.Open(manifestPath, options.Folder);
        var recipe = new ExportRecipe(session.ModelSha256, options.Format.ToString().ToLowerInvariant(),
            options.Format == ImageFileFormat.Png ? 0 : options.Quality, session.Options.Truncation, options.Label);
        long? LabelOf(long index) => contract.IsConditional ? options.Label ?? index % contract.NumClasses
            : contract.LatentClasses > 0 ? options.Label : null;
        string NameOf(long index) => FileName(options.Seed, index, LabelOf(index), digits, options.Format);

        // What the folder already holds of this job, from the manifest's lines (never a scan over every index of the job).
        var ours = manifest.Entries.Values
            .Where(e => e.Seed == options.Seed && e.Index >= first && e.Index < first + length && e.File == NameOf(e.Index)).ToList();
        var foreign = ours.Where(e => e.MadeBy != recipe).ToList();
        if (foreign.Count > 0 && !options.Overwrite)
            throw new GanOnnxException($"'{options.Folder}' already holds {foreign.Count} of this job's files made by {recipe.Difference(foreign[0].MadeBy)} " +
                $"(e.g. {foreign[0].File}); write to another --out, or give --overwrite to replace them.");
        if (foreign.Count > 0) manifest.Forget(foreign.Select(e => e.File)); // --overwrite: these are written again
        var skipped = (long)ours.Count - foreign.Count;

        var stopwatch = Stopwatch.StartNew();
        long inferenceTicks = 0, encodeTicks = 0, written = 0;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var queue = Channel.CreateBounded<GeneratedBatch>(new BoundedChannelOptions(options.QueueBatches) { SingleWriter = options.InferenceWorkers == 1 });
        var pixelOutput = session.Options.PixelOutput != PixelLayout.None;

        var batch = session.MaxBatchSize;
        var nextStart = first - batch; // each worker takes the next batch start with Interlocked.Add
        var producers = Enumerable.Range(0, options.InferenceWorkers).Select(_ => Task.Run(async () =>
        {
            for (var start = Interlocked.Add(ref nextStart, batch); start < first + length; start = Interlocked.Add(ref nextStart, batch))
            {
                cts.Token.ThrowIfCancellationRequested();
                var n = (int)Math.Min(batch, first + length - start);
                var allDone = true;
                for (var k = start; k < start + n && allDone; k++) allDone = manifest.IsDone(NameOf(k), recipe);
                if (allDone) continue;
                var t0 = Stopwatch.GetTimestamp();
                // 8-bit pixels straight from the graph when the session has them (the value mapping ran in ONNX Runtime).
                var images = pixelOutput
                    ? new GeneratedBatch(null, session.GeneratePixels(n, options.Seed, start, options.Label))
                    : new GeneratedBatch(session.Generate(n, options.Seed, start, options.Label), null);
                Interlocked.Add(ref inferenceTicks, Stopwatch.GetTimestamp() - t0);
                await queue.Writer.WriteAsync(images, cts.Token).ConfigureAwait(false);
            }
        }, cts.Token)).ToList();
        var producer = Task.Run(async () =>
        {
            try
            {
                await Task.WhenAll(producers).ConfigureAwait(false);
                queue.Writer.Complete();
            }
            catch (Exception ex)
            {
                queue.Writer.Complete(ex);
                await cts.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }, CancellationToken.None);

        var consumers = Enumerable.Range(0, options.EncoderThreads).Select(_ => Task.Run(async () =>
        {
            try
            {
                await Consume().ConfigureAwait(false);
            }
            catch
            {
                // A failed writer stops the whole export: without this, once every writer had failed the producer would
                // wait on the full queue for ever.
                await cts.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }, cts.Token)).ToList();

        async Task Consume()
        {
            await foreach (var images in queue.Reader.ReadAllAsync(cts.Token).ConfigureAwait(false))
            {
                for (var i = 0; i < images.Count; i++)
                {
                    var index = images.StartIndex + i;
                    var label = images.Labels?[i];
                    var name = FileName(options.Seed, index, label, digits, options.Format);
                    if (manifest.IsDone(name, recipe)) continue;
                    var t0 = Stopwatch.GetTimestamp();
                    var bytes = images.Encode(i, options.Format, options.Quality);
                    ImageEncoder.WriteAtomically(Path.Combine(options.Folder, name), bytes);
                    manifest.Add(new ManifestEntry(name, options.Seed, index, label, Checksum.Sha256Hex(bytes)) { MadeBy = recipe });
                    Interlocked.Add(ref encodeTicks, Stopwatch.GetTimestamp() - t0);
                    var done = Interlocked.Increment(ref written);
                    progress?.Report(new ExportProgress(done + skipped, length, stopwatch.Elapsed));
                }
                manifest.Flush(); // once a batch, not once a file
            }
        }

        try
        {
            await Task.WhenAll(consumers.Append(producer)).ConfigureAwait(false);
        }
        catch
        {
            await cts.CancelAsync().ConfigureAwait(false);
            var failure = producers.Append(producer).Concat(consumers).Where(t => t.IsFaulted).Select(t => t.Exception!.GetBaseException())
                .FirstOrDefault(e => e is not OperationCanceledException and not ChannelClosedException);
            if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            throw;
        }

        if (options.Grid && options.Shard.Index == 0)
        {
            // Conditional models with balanced classes: one column per class, eight rows.
            var byClass = contract.IsConditional && options.Label is null && contract.NumClasses <= 32;
            var gridCount = (int)Math.Min(options.Count, byClass ? 8 * contract.NumClasses : 64);
            var gridImages = session.Generate(gridCount, options.Seed, options.StartIndex, options.Label);
            var captions = options.GridLabels
                ? Enumerable.Range(0, gridCount).Select(i => gridImages.Labels is { } l
                    ? (contract.ClassNames.Count > l[i] ? contract.ClassNames[(int)l[i]] : l[i].ToString(CultureInfo.InvariantCulture))
                    : (options.StartIndex + i).ToString(CultureInfo.InvariantCulture)).ToList()
                : null;
            ImageGrid.Save(gridImages, Path.Combine(options.Folder, "grid.png"), columns: byClass ? contract.NumClasses : 0, labels: captions);
        }
        return new BatchExportResult(written, skipped, length, stopwatch.Elapsed,
            Stopwatch.GetElapsedTime(0, inferenceTicks), Stopwatch.GetElapsedTime(0, encodeTicks), manifestPath);
    }
}

/// <summary>A generated batch on its way to the encoders: float images, or 8-bit pixels from the graph.</summary>
internal sealed record GeneratedBatch(ImageBatch? Floats, PixelBatch? Pixels)
{
    public int Count => Floats?.Count ?? Pixels!.Count;
    public long StartIndex => Floats?.StartIndex ?? Pixels!.StartIndex;
    public long[]? Labels => Floats is not null ? Floats.Labels : Pixels!.Labels;

    public byte[] Encode(int index, ImageFileFormat format, int quality) =>
        Pixels is not null ? ImageEncoder.Encode(Pixels, index, format, quality) : ImageEncoder.Encode(Floats!, index, format, quality);
}
