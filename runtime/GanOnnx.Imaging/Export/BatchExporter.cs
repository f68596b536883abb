using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using GanOnnx.Runtime;

namespace GanOnnx.Imaging;

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
        if (options.ClassIndex is { } asked && session.DescribeClassProblem(asked) is { } problem) throw new GanOnnxException($"BatchExportOptions.ClassIndex: {problem}");

        if (File.Exists(options.Folder)) throw new GanOnnxException($"BatchExportOptions.Folder: '{options.Folder}' is a file; give a folder (it is created if missing).");
        cancellationToken.ThrowIfCancellationRequested(); // before the folder is made
        Directory.CreateDirectory(options.Folder);
        // Temporary files left by a killed run never look complete (hidden, ".partial"); remove them when this process is
        // the only writer. Shards may share a folder, so a sharded run leaves other writers' temporary files alone.
        if (options.Shard.Count == 1)
            foreach (var stale in Directory.EnumerateFiles(options.Folder, AtomicFile.TemporaryPattern)) File.Delete(stale);

        var digits = Math.Max(6, (options.StartIndex + options.Count - 1).ToString(CultureInfo.InvariantCulture).Length);
        var (first, length) = options.Shard.Slice(options.StartIndex, options.Count);
        var manifestPath = Path.Combine(options.Folder, ManifestName(options.Shard));
        using var manifest = Manifest.Open(manifestPath, options.Folder);
        var recipe = new ExportRecipe(session.ModelSha256, options.Format.ToString().ToLowerInvariant(),
            options.Format == ImageFileFormat.Png ? 0 : options.Quality, session.Options.Truncation, options.ClassIndex);
        long? LabelOf(long index) => contract.IsConditional ? options.ClassIndex ?? index % contract.NumClasses
            : contract.LatentClasses > 0 ? options.ClassIndex : null;
        string NameOf(long index) => FileName(options.Seed, index, LabelOf(index), digits, options.Format);

        // What the folder already holds of this job, from the manifest's lines (never a scan over every index of the job).
        var ours = manifest.Entries.Values
            .Where(e => e.Seed == options.Seed && e.Index >= first && e.Index < first + length && e.File == NameOf(e.Index)).ToList();
        var foreign = ours.Where(e => e.MadeBy != recipe).ToList();
        if (foreign.Count > 0 && !options.Overwrite)
            throw new GanOnnxException($"'{options.Folder}' already holds {foreign.Count} of this job's files made by {recipe.Difference(foreign[0].MadeBy)} " +
                $"(e.g. {foreign[0].File}); write to another BatchExportOptions.Folder, or set BatchExportOptions.Overwrite to replace them.");
        if (foreign.Count > 0) manifest.Forget(foreign.Select(e => e.File)); // --overwrite: these are written again
        var skipped = (long)ours.Count - foreign.Count;

        var stopwatch = Stopwatch.StartNew();
        long inferenceTicks = 0, encodeTicks = 0, written = 0;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var queue = Channel.CreateBounded<GeneratedBatch>(new BoundedChannelOptions(options.QueueBatches) { SingleWriter = options.InferenceWorkers == 1 });
        var pixelOutput = session.Options.PixelOutput != PixelLayout.None;

        var batch = session.MaxBatchSize;
        // Each worker takes the next batch number with Interlocked.Increment. Counting batches, not indices, keeps the
        // arithmetic inside the job: a start index past the last one could wrap round near long.MaxValue.
        var batches = length / batch + (length % batch == 0 ? 0 : 1);
        var nextBatch = -1L;
        var producers = Enumerable.Range(0, options.InferenceWorkers).Select(_ => Task.Run(async () =>
        {
            for (var b = Interlocked.Increment(ref nextBatch); b < batches; b = Interlocked.Increment(ref nextBatch))
            {
                cts.Token.ThrowIfCancellationRequested();
                var offset = b * batch;
                var start = first + offset;
                var n = (int)Math.Min(batch, length - offset);
                var allDone = true;
                for (var k = start; k < start + n && allDone; k++) allDone = manifest.IsDone(NameOf(k), recipe);
                if (allDone) continue;
                var t0 = Stopwatch.GetTimestamp();
                // 8-bit pixels straight from the graph when the session has them (the value mapping ran in ONNX Runtime).
                var images = pixelOutput
                    ? new GeneratedBatch(null, session.GeneratePixels(n, options.Seed, start, options.ClassIndex))
                    : new GeneratedBatch(session.Generate(n, options.Seed, start, options.ClassIndex), null);
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
                    var bytes = images.Encode(i, options.Format, options.Quality, options.PngCompression);
                    AtomicFile.Write(Path.Combine(options.Folder, name), bytes);
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
            var byClass = contract.IsConditional && options.ClassIndex is null && contract.NumClasses <= 32;
            var gridCount = (int)Math.Min(options.Count, byClass ? 8 * contract.NumClasses : 64);
            var gridImages = session.Generate(gridCount, options.Seed, options.StartIndex, options.ClassIndex);
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

    public byte[] Encode(int index, ImageFileFormat format, int quality, PngCompression png) =>
        Pixels is not null ? ImageEncoder.Encode(Pixels, index, format, quality, png) : ImageEncoder.Encode(Floats!, index, format, quality, png);
}
