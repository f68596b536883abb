using GanOnnx.Runtime.Cuda;
using GanOnnx.Runtime.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace GanOnnx.Runtime;

/// <summary>
/// A loaded generator model: reads its contract and turns latents into images with ONNX Runtime.
/// Holds native memory (the ONNX Runtime session): dispose it. Thread-safe: any number of threads may call the
/// generation methods at once, and a given (seed, index) gives bit-identical images whichever thread asks.
/// </summary>
public sealed partial class GeneratorSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions;
    /// <summary>The tags of this session's measurements (<see cref="GeneratorMetrics"/>) for float, 8-bit and device output.</summary>
    private readonly (KeyValuePair<string, object?>[] Float, KeyValuePair<string, object?>[] Pixels, KeyValuePair<string, object?>[] Device) _metricTags;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly System.Collections.Concurrent.ConcurrentBag<RunBuffers> _buffers = [];
    private readonly CudaDataPath? _cuda;
    private readonly object _graphLock = new();
    private bool _disposed;

    /// <param name="source">Names the model in messages.</param>
    /// <param name="model">The model's bytes, or null to read them from <paramref name="path"/> only if they are needed.</param>
    /// <param name="path">The model's file, when it came from one (ONNX Runtime then resolves external data next to it).</param>
    /// <param name="options">How to run it.</param>
    private GeneratorSession(string source, byte[]? model, string? path, GeneratorOptions? options)
    {
        var loadStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        Options = options ?? new GeneratorOptions();
        Options.Validate();
        Source = source;
        _sha256 = new Lazy<string>(() => model is not null
            ? Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(model))
            : Sha256OfFile(path!));

        var available = ProviderSelection.Available(); // first: a missing native library becomes a GanOnnxException naming the packages
        using var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        var intraOp = Options.IntraOpThreads > 0 ? Options.IntraOpThreads : CpuTopology.DefaultIntraOpThreads;
        if (intraOp > 0) sessionOptions.IntraOpNumThreads = intraOp;
        if (!Options.IntraOpSpinning) sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        (Provider, ProviderReport) = ProviderSelection.Apply(sessionOptions, Options, available);

        try
        {
            var graph = model; // the bytes ONNX Runtime gets (the model's own, for ModelSha256, stay in 'model')
            if (Options.UsesSubPixel(Provider))
            {
                graph = SubPixelGraph.Rewrite(model ?? File.ReadAllBytes(path!), out var rewrites);
                SubPixelRewrites = rewrites;
            }
            if (Options.PixelOutput == PixelLayout.None && graph is null)
            {
                _session = new InferenceSession(path!, sessionOptions);
            }
            else
            {
                var bytes = PixelGraph.Append(graph ?? File.ReadAllBytes(path!), Options.PixelOutput, source);
                if (path is not null)
                    sessionOptions.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", Path.GetDirectoryName(path)!);
                _session = new InferenceSession(bytes, sessionOptions);
            }
        }
        catch (OnnxRuntimeException ex)
        {
            throw new GanOnnxException($"'{source}' could not be loaded as an ONNX model: {ex.Message}", ex);
        }

        try
        {
            Contract = ModelContract.Create(source, Describe(_session.InputMetadata),
                Describe(_session.OutputMetadata).Where(o => o.Name != PixelGraph.OutputName).ToList(), _session.ModelMetadata.CustomMetadataMap);
            Sampler = new LatentSampler(Contract.LatentDim, Contract.LatentDistribution, Options.Truncation, untruncated: Contract.UntruncatedLatents);
            _inputNames = Contract.LabelInputName is null ? [Contract.LatentInputName] : [Contract.LatentInputName, Contract.LabelInputName];
            _outputNames = [Contract.ImageOutputName];
            _runOptions = new RunOptions();
            if (Provider == ExecutionProvider.Cuda) _cuda = new CudaDataPath(Options.DeviceId, Options.CudaGraph);
            var name = path is not null ? Path.GetFileName(path) : source;
            _metricTags = (GeneratorMetrics.Tags(name, Provider, "float"), GeneratorMetrics.Tags(name, Provider, "uint8"), GeneratorMetrics.Tags(name, Provider, "device"));
            GeneratorMetrics.LoadDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(loadStarted).TotalSeconds,
                _metricTags.Float.AsSpan(0, 2)); // model and provider, the first two tags: a load has no output
        }
        catch
        {
            _runOptions?.Dispose();
            _session.Dispose();
            throw;
        }
    }

    /// <summary>Loads a model file. Throws <see cref="GanOnnxException"/> when the file is missing, is not ONNX, or is not a generator.</summary>
    public static GeneratorSession Load(string path, GeneratorOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new GanOnnxException(MissingFile.Describe("Model file", path, "*.onnx"));
        var full = Path.GetFullPath(path);
        if (new FileInfo(full).Length == 0) throw new GanOnnxException($"Model file '{path}' is empty.");
        ExternalDataCheck.Check(path);
        return new GeneratorSession(path, null, full, options);
    }

    /// <summary>Loads a model from its bytes. <paramref name="name"/> names it in messages.</summary>
    public static GeneratorSession Load(byte[] model, GeneratorOptions? options = null, string name = "(in-memory model)")
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Length == 0) throw new GanOnnxException($"'{name}' is empty; an ONNX model cannot be 0 bytes.");
        return new GeneratorSession(name, model, null, options);
    }

    /// <summary>Loads a model from a stream (read to its end). <paramref name="name"/> names it in messages.</summary>
    public static GeneratorSession Load(Stream model, GeneratorOptions? options = null, string name = "(stream)")
    {
        ArgumentNullException.ThrowIfNull(model);
        using var buffer = new MemoryStream();
        model.CopyTo(buffer);
        return Load(buffer.ToArray(), options, name);
    }

    /// <summary>
    /// Lower-case hex SHA-256 of the model's bytes (of the .onnx file; external data files are not included), computed
    /// on first use.
    /// </summary>
    public string ModelSha256 => _sha256.Value;

    private readonly Lazy<string> _sha256;

    private static string Sha256OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    /// <summary>Where the model came from (its path, or the name given).</summary>
    public string Source { get; }
    /// <summary>What the model promises: latent size and distribution, image shape and range, classes, provenance.</summary>
    public ModelContract Contract { get; }
    /// <summary>The options this session was created with.</summary>
    public GeneratorOptions Options { get; }
    /// <summary>
    /// How many of the model's ConvTranspose layers run as (sub-pixel) convolutions (<see cref="GeneratorOptions.SubPixel"/>);
    /// 0 when the option is off for this provider or the model has no layer the rewrite takes.
    /// </summary>
    public int SubPixelRewrites { get; }
    /// <summary>The execution provider in use.</summary>
    public ExecutionProvider Provider { get; }
    /// <summary>Which provider was chosen and why the others were not.</summary>
    public string ProviderReport { get; }
    /// <summary>
    /// The most images one inference call runs: <see cref="GeneratorOptions.MaxBatchSize"/>, or the model's
    /// <see cref="ModelContract.FixedBatchSize"/> when its graph fixes the batch (every call then runs exactly that many).
    /// </summary>
    public int MaxBatchSize => Contract.FixedBatchSize ?? Options.MaxBatchSize;

    /// <summary>The sampler that turns (seed, index) into this model's latents.</summary>
    public LatentSampler Sampler { get; }

    /// <summary>Device memory in use on the GPU (all processes), in bytes, when this session runs on CUDA; otherwise null.</summary>
    public long? DeviceMemoryInUseBytes() => _cuda?.Runtime.MemoryInUse();

    /// <summary>The execution providers the loaded ONNX Runtime offers on this machine.</summary>
    public static IReadOnlyList<string> AvailableProviders() => ProviderSelection.Available();

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        while (_buffers.TryTake(out var buffers)) buffers.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _cuda?.Dispose();
    }

    /// <summary>
    /// Buffers for up to <see cref="MaxBatchSize"/> images: one set per caller running at once, reused by later calls of
    /// any batch size, so the pool never holds more sets than the most concurrent calls there have been.
    /// </summary>
    /// <summary>Buffer sets in the pool now (tests).</summary>
    internal int PooledBufferSets => _buffers.Count;

    private RunBuffers Rent() => _buffers.TryTake(out var buffers) ? buffers : new RunBuffers(_session, Contract, MaxBatchSize, Options.PixelOutput, _cuda);

    private void Return(RunBuffers buffers)
    {
        if (_disposed) buffers.Dispose();
        else _buffers.Add(buffers);
    }

    private static List<TensorDescription> Describe(IReadOnlyDictionary<string, NodeMetadata> nodes) =>
        nodes.Select(kv => new TensorDescription(
            kv.Key,
            kv.Value.IsTensor ? kv.Value.ElementType : typeof(object),
            kv.Value.IsTensor ? kv.Value.Dimensions : [])).ToList();
}
