using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GanOnnx.Runtime;

public sealed partial class GeneratorSession
{
    /// <summary>
    /// Generates images <paramref name="startIndex"/> … <paramref name="startIndex"/> + <paramref name="count"/> − 1 of
    /// <paramref name="seed"/>. For a conditional model, <paramref name="classIndex"/> fixes the class of every image; when it
    /// is null, image k gets class k mod <see cref="ModelContract.NumClasses"/> (balanced, and a function of the index).
    /// For a model with latent classes, <paramref name="classIndex"/> fixes the latent class: each latent's first value is moved
    /// into that class's interval (<see cref="LatentClassRule.Place"/>) and the rest of the latent stays as it is, so image
    /// k of a seed keeps its other features whichever class is asked for; when it is null, the classes come in the
    /// model's own proportions.
    /// </summary>
    public ImageBatch Generate(int count, long seed, long startIndex = 0, int? classIndex = null)
    {
        Guard.NonNegative(count);
        Guard.IndexRange(startIndex, count);
        CheckClass(classIndex);
        Guard.FitsOneArray(count, Contract.ValuesPerImage);
        var pixels = new float[(long)count * Contract.ValuesPerImage];
        GenerateInto(pixels, count, seed, startIndex, classIndex);
        return new ImageBatch(pixels, count, Contract.Channels, Contract.Height, Contract.Width, Contract.ValueRange, seed, startIndex, LabelsFor(count, startIndex, classIndex));
    }

    /// <summary>
    /// Generates images <paramref name="startIndex"/> … + <paramref name="count"/> − 1 of <paramref name="seed"/> straight
    /// into <paramref name="destination"/> (NCHW). Latents are sampled into reused, pinned buffers: once warm, this
    /// allocates no managed memory of its own. Labels are as in <see cref="Generate"/>.
    /// </summary>
    public void GenerateInto(Span<float> destination, int count, long seed, long startIndex = 0, int? classIndex = null) =>
        Produce(destination, count, seed, startIndex, classIndex, pixels: false);

    /// <summary>
    /// Generates images <paramref name="startIndex"/> … + <paramref name="count"/> − 1 of <paramref name="seed"/> as 8-bit
    /// pixels, mapped from the model's value range inside the ONNX graph (on the GPU with CUDA), in the layout of
    /// <see cref="GeneratorOptions.PixelOutput"/>, which must not be <see cref="PixelLayout.None"/>. The bytes are those
    /// <c>ImageEncoder</c> makes from <see cref="Generate"/>'s floats. Labels are as in <see cref="Generate"/>.
    /// </summary>
    public PixelBatch GeneratePixels(int count, long seed, long startIndex = 0, int? classIndex = null)
    {
        RequirePixelOutput(); // before the array is made, which may be large
        Guard.NonNegative(count);
        Guard.IndexRange(startIndex, count);
        CheckClass(classIndex);
        Guard.FitsOneArray(count, Contract.ValuesPerImage);
        var pixels = new byte[(long)count * Contract.ValuesPerImage];
        GeneratePixelsInto(pixels, count, seed, startIndex, classIndex);
        return new PixelBatch(pixels, count, Contract.Channels, Contract.Height, Contract.Width, Options.PixelOutput, seed, startIndex, LabelsFor(count, startIndex, classIndex));
    }

    /// <summary>
    /// The zero-allocation form of <see cref="GeneratePixels"/>: writes count × image size bytes into
    /// <paramref name="destination"/>.
    /// </summary>
    public void GeneratePixelsInto(Span<byte> destination, int count, long seed, long startIndex = 0, int? classIndex = null)
    {
        RequirePixelOutput();
        Produce(destination, count, seed, startIndex, classIndex, pixels: true);
    }

    private void RequirePixelOutput()
    {
        if (Options.PixelOutput == PixelLayout.None)
            throw new InvalidOperationException($"'{Source}' was loaded without a pixel output; set {nameof(GeneratorOptions)}.{nameof(GeneratorOptions.PixelOutput)} to Nhwc or Nchw.");
    }

    /// <summary>
    /// Images <paramref name="startIndex"/> … + <paramref name="count"/> − 1 of <paramref name="seed"/> into
    /// <paramref name="destination"/>, batch by batch: floats (<paramref name="pixels"/> false) or 8-bit pixels.
    /// </summary>
    private void Produce<T>(Span<T> destination, int count, long seed, long startIndex, int? classIndex, bool pixels) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Guard.NonNegative(count);
        Guard.IndexRange(startIndex, count);
        CheckClass(classIndex);
        if (destination.Length < (long)count * Contract.ValuesPerImage)
            throw new ArgumentException($"destination has {destination.Length} {(pixels ? "bytes" : "floats")}; {count} images need {(long)count * Contract.ValuesPerImage}.", nameof(destination));

        for (var done = 0; done < count;)
        {
            var n = Math.Min(MaxBatchSize, count - done);
            var buffers = RunBatch(Contract.FixedBatchSize ?? n, n, seed, startIndex + done, classIndex, pixels);
            var source = pixels ? (T[])(object)buffers.Pixels : (T[])(object)buffers.Images;
            CopyOut(source.AsSpan(0, n * Contract.ValuesPerImage), destination.Slice(done * Contract.ValuesPerImage));
            Return(buffers);
            done += n;
        }
    }

    /// <summary>
    /// CUDA: generates images <paramref name="startIndex"/> … + <paramref name="count"/> − 1 of <paramref name="seed"/>
    /// (at most <see cref="MaxBatchSize"/>) and hands them to <paramref name="consume"/> where they are, in this session's
    /// GPU memory, with no copy to the host: float32 NCHW, or with <paramref name="pixels"/> the 8-bit pixels of
    /// <see cref="GeneratorOptions.PixelOutput"/>. The memory is the session's and serves its later calls, so use it (or
    /// copy it on the device) inside <paramref name="consume"/>, which runs before this method returns, after the images
    /// are complete. Labels are as in <see cref="Generate"/>.
    /// </summary>
    public void GenerateOnDevice(int count, long seed, long startIndex, Action<DeviceImages> consume, int? classIndex = null, bool pixels = false)
    {
        ArgumentNullException.ThrowIfNull(consume);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_cuda is null)
            throw new GanOnnxException($"GenerateOnDevice needs the CUDA provider; '{Source}' runs on {Provider}. Use Generate or GenerateInto there.");
        if (count < 1 || count > MaxBatchSize)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be between 1 and MaxBatchSize ({MaxBatchSize}): one batch stays on the device.");
        if (pixels) RequirePixelOutput();
        Guard.IndexRange(startIndex, count);
        CheckClass(classIndex);
        var n = Contract.FixedBatchSize ?? count;
        var buffers = RunBatch(n, count, seed, startIndex, classIndex, pixels, toHost: false);
        try
        {
            var (address, bytes) = buffers.DeviceResult(n, pixels);
            consume(new DeviceImages(address, bytes * count / n, count, Options.DeviceId, pixels ? Options.PixelOutput : PixelLayout.None,
                Contract.Channels, Contract.Height, Contract.Width));
        }
        finally
        {
            Return(buffers);
        }
    }

    /// <summary>Bytes from which <see cref="CopyOut{T}"/> copies on several cores.</summary>
    internal const int ParallelCopyBytes = 4 << 20;

    /// <summary>
    /// Copies a batch's result out of the pinned buffer; a large one (a batch of 8,192 64×64 RGB float images is 400 MB)
    /// in 1 MiB slices on all cores, since one core copies more slowly than a GPU hands the images over.
    /// </summary>
    private static unsafe void CopyOut<T>(ReadOnlySpan<T> source, Span<T> destination) where T : unmanaged
    {
        var bytes = (long)source.Length * sizeof(T);
        if (bytes < ParallelCopyBytes || Environment.ProcessorCount < 2)
        {
            source.CopyTo(destination);
            return;
        }
        if (destination.Length < source.Length)
            throw new ArgumentException($"destination has {destination.Length} elements; the source has {source.Length}.", nameof(destination));
        const int slice = 1 << 20;
        fixed (T* from = source)
        fixed (T* to = destination)
        {
            var (src, dst) = ((IntPtr)from, (IntPtr)to);
            Parallel.For(0, (int)((bytes + slice - 1) / slice), i =>
            {
                var offset = (long)i * slice;
                Buffer.MemoryCopy((byte*)src + offset, (byte*)dst + offset, bytes - offset, Math.Min(slice, bytes - offset));
            });
        }
    }

    /// <summary>
    /// The one path every (seed, index) form runs through: rents buffers, samples
    /// the latents of images <paramref name="first"/> … into them, sets the labels, and runs the model into the buffers'
    /// float images or pixels. The caller copies the result out and returns the buffers.
    /// </summary>
    /// <param name="n">Latents to run (a model with a fixed batch runs its whole batch).</param>
    /// <param name="images">Images the caller asked for, for <see cref="GeneratorMetrics"/>.</param>
    /// <param name="seed">The seed of the latents.</param>
    /// <param name="first">The index of the first image.</param>
    /// <param name="classIndex">The class asked for, or null.</param>
    /// <param name="pixels">8-bit pixels rather than floats.</param>
    /// <param name="toHost">Whether a CUDA run copies its result to the host.</param>
    private RunBuffers RunBatch(int n, int images, long seed, long first, int? classIndex, bool pixels, bool toHost = true)
    {
        var started = GeneratorMetrics.Start();
        var buffers = Rent();
        try
        {
            Sampler.FillBatch(seed, first, n, buffers.Latents);
            if (classIndex is { } latentClass && Contract.LatentClasses > 0)
                PlaceLatentClass(buffers.Latents.AsSpan(0, n * Contract.LatentDim), latentClass);
            if (Contract.IsConditional)
                for (var i = 0; i < n; i++) buffers.Labels[i] = classIndex ?? (first + i) % Contract.NumClasses;
            if (_cuda is { Graphs: true })
            {
                lock (_graphLock) buffers.Run(_runOptions, n, pixels, toHost); // captured graphs replay one at a time
            }
            else
            {
                buffers.Run(_runOptions, n, pixels, toHost);
            }
            GeneratorMetrics.RecordBatch(started, images, !toHost ? _metricTags.Device : pixels ? _metricTags.Pixels : _metricTags.Float);
            return buffers;
        }
        catch
        {
            Return(buffers);
            throw;
        }
    }

    /// <summary>
    /// Generates one image per latent vector in <paramref name="latents"/> (count × latent size floats, back to back).
    /// Conditional models need one label per image.
    /// </summary>
    public ImageBatch GenerateFromLatents(ReadOnlySpan<float> latents, ReadOnlySpan<long> labels = default)
    {
        var count = CountOf(latents);
        Guard.FitsOneArray(count, Contract.ValuesPerImage);
        var pixels = new float[(long)count * Contract.ValuesPerImage];
        var labelCopy = labels.IsEmpty ? null : labels.ToArray();
        Run(latents, labelCopy, pixels);
        return new ImageBatch(pixels, count, Contract.Channels, Contract.Height, Contract.Width, Contract.ValueRange, labels: labelCopy);
    }

    /// <summary>
    /// The zero-copy form: runs the model on <paramref name="latents"/> and writes the images (NCHW, count × image size
    /// floats) straight into <paramref name="destination"/>. Inputs are checked before any work.
    /// </summary>
    public void Run(ReadOnlySpan<float> latents, ReadOnlySpan<long> labels, Span<float> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var count = CountOf(latents);
        Guard.AllFinite(latents);
        CheckLabels(labels, count);
        if (destination.Length < (long)count * Contract.ValuesPerImage)
            throw new ArgumentException($"destination has {destination.Length} floats; {count} images need {(long)count * Contract.ValuesPerImage}.", nameof(destination));

        var batch = MaxBatchSize;
        for (var start = 0; start < count; start += batch)
        {
            var n = Math.Min(batch, count - start);
            var started = GeneratorMetrics.Start();
            if (Contract.FixedBatchSize is { } fixedBatch)
            {
                RunPadded(latents.Slice(start * Contract.LatentDim, n * Contract.LatentDim),
                    labels.IsEmpty ? default : labels.Slice(start, n), destination.Slice(start * Contract.ValuesPerImage, n * Contract.ValuesPerImage), n, fixedBatch);
            }
            else
            {
                RunChunk(
                    latents.Slice(start * Contract.LatentDim, n * Contract.LatentDim),
                    labels.IsEmpty ? default : labels.Slice(start, n),
                    destination.Slice(start * Contract.ValuesPerImage, n * Contract.ValuesPerImage),
                    n);
            }
            GeneratorMetrics.RecordBatch(started, n, _metricTags.Float);
        }
    }

    /// <summary>A model with a fixed batch: the <paramref name="n"/> latents go into a full batch of zeros, and n images come out.</summary>
    private void RunPadded(ReadOnlySpan<float> latents, ReadOnlySpan<long> labels, Span<float> destination, int n, int fixedBatch)
    {
        var buffers = Rent();
        try
        {
            buffers.Latents.AsSpan().Clear();
            latents.CopyTo(buffers.Latents);
            buffers.Labels.AsSpan().Clear();
            labels.CopyTo(buffers.Labels);
            buffers.Run(_runOptions, fixedBatch, pixels: false);
            buffers.Images.AsSpan(0, n * Contract.ValuesPerImage).CopyTo(destination);
        }
        finally
        {
            Return(buffers);
        }
    }

    private unsafe void RunChunk(ReadOnlySpan<float> latents, ReadOnlySpan<long> labels, Span<float> destination, int n)
    {
        var memory = OrtMemoryInfo.DefaultInstance;
        fixed (float* z = latents)
        fixed (long* y = labels)
        fixed (float* image = destination)
        {
            using var zValue = OrtValue.CreateTensorValueWithData(memory, TensorElementType.Float,
                [n, Contract.LatentDim], (IntPtr)z, (long)latents.Length * sizeof(float));
            using var imageValue = OrtValue.CreateTensorValueWithData(memory, TensorElementType.Float,
                [n, Contract.Channels, Contract.Height, Contract.Width], (IntPtr)image, (long)destination.Length * sizeof(float));
            if (Contract.IsConditional)
            {
                using var yValue = OrtValue.CreateTensorValueWithData(memory, TensorElementType.Int64, [n], (IntPtr)y, (long)n * sizeof(long));
                _session.Run(_runOptions, _inputNames, [zValue, yValue], _outputNames, [imageValue]);
            }
            else
            {
                _session.Run(_runOptions, _inputNames, [zValue], _outputNames, [imageValue]);
            }
        }
    }

    private int CountOf(ReadOnlySpan<float> latents)
    {
        if (latents.Length % Contract.LatentDim != 0)
            throw new ArgumentException($"latents has {latents.Length} floats, not a multiple of the latent size {Contract.LatentDim}.", nameof(latents));
        return latents.Length / Contract.LatentDim;
    }

    /// <summary>
    /// Moves each latent vector in <paramref name="latents"/> (count × latent size floats) into latent class
    /// <paramref name="latentClass"/> of a model with latent classes, changing only its first value
    /// (<see cref="LatentClassRule.Place"/>); for latents made some other way, such as interpolations.
    /// </summary>
    public void PlaceInLatentClass(Span<float> latents, int latentClass)
    {
        if (Contract.LatentClasses == 0)
            throw new InvalidOperationException($"'{Source}' has no latent classes.");
        CheckClass(latentClass);
        CountOf(latents);
        PlaceLatentClass(latents, latentClass);
    }

    private void PlaceLatentClass(Span<float> latents, int latentClass)
    {
        for (var i = 0; i < latents.Length; i += Contract.LatentDim)
            latents[i] = LatentClassRule.Place(latents[i], latentClass, Contract.LatentClassThresholds, Contract.LatentDistribution);
    }

    /// <summary>
    /// Why <paramref name="classIndex"/> cannot be asked of this model, or null when it can: a class of a conditional model, or
    /// a latent class of a model with latent classes (which needs the thresholds its export records). The one place the
    /// library, the CLI's <c>--class</c> and the web sample check a requested class.
    /// </summary>
    public string? DescribeClassProblem(int classIndex) => ClassProblem(classIndex)?.Message;

    /// <summary>The problem with <paramref name="classIndex"/>, and whether it is only out of the model's range of classes.</summary>
    private (string Message, bool OutOfRange)? ClassProblem(int classIndex)
    {
        if (Contract.LatentClasses > 0)
        {
            if (!Contract.CanRequestLatentClass)
                return ($"'{Source}' has {Contract.LatentClasses} latent classes but no '{ModelMetadataKeys.LatentClassThresholds}' metadata to place a latent in one; export it again with this version.", false);
            return classIndex < 0 || classIndex >= Contract.LatentClasses
                ? ($"latent class {classIndex} is out of range: '{Source}' has latent classes 0 to {Contract.LatentClasses - 1}.", true)
                : null;
        }
        if (!Contract.IsConditional) return ($"class {classIndex} was asked for but '{Source}' is unconditional (it has no classes).", false);
        return classIndex < 0 || classIndex >= Contract.NumClasses
            ? ($"class {classIndex} is out of range: '{Source}' has classes 0 to {Contract.NumClasses - 1}.", true)
            : null;
    }

    private void CheckClass(int? classIndex)
    {
        if (classIndex is not { } fixedLabel || ClassProblem(fixedLabel) is not var (problem, outOfRange)) return;
        if (outOfRange) throw new ArgumentOutOfRangeException(nameof(classIndex), classIndex, problem);
        throw new ArgumentException(problem, nameof(classIndex));
    }

    private long[]? LabelsFor(int count, long startIndex, int? classIndex)
    {
        if (Contract.LatentClasses > 0 && classIndex is { } latentClass) return Enumerable.Repeat((long)latentClass, count).ToArray();
        if (!Contract.IsConditional) return null;
        var labels = new long[count];
        for (var i = 0; i < count; i++) labels[i] = classIndex ?? (startIndex + i) % Contract.NumClasses;
        return labels;
    }

    private void CheckLabels(ReadOnlySpan<long> labels, int count)
    {
        if (!Contract.IsConditional)
        {
            if (!labels.IsEmpty)
                throw new ArgumentException($"labels were given but '{Source}' is unconditional (it has no classes).", nameof(labels));
            return;
        }
        if (labels.Length != count)
            throw new ArgumentException($"'{Source}' is conditional: it needs one label per image ({count}); got {labels.Length}.", nameof(labels));
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0 || labels[i] >= Contract.NumClasses)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"label at position {i} is {labels[i]}; it must be in [0, {Contract.NumClasses}).");
        }
    }
}
