using GanOnnx.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GanOnnx.Diagnostics;

/// <summary>
/// The peer a user would write instead of GanOnnx: ONNX Runtime by hand, an <see cref="InferenceSession"/> run on one
/// fixed latent tensor, its float32 output allocated by ONNX Runtime and disposed after each call. No sampling, no value
/// mapping, no copies: only inference, the floor the runtime's own paths are measured against.
/// </summary>
public sealed class PlainOnnxRuntimeTarget : IBenchmarkTarget
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly Dictionary<int, OrtValue[]> _inputs = [];
    private readonly int _latentDim;
    private readonly bool _conditional;

    /// <summary>
    /// Loads <paramref name="modelPath"/> on the CPU (<paramref name="threads"/> intra-op threads, 0 = default), or on
    /// CUDA with <paramref name="cuda"/>'s provider options (<see cref="GeneratorOptions.CudaProviderOptions"/>: the
    /// device, TF32, layout and cuDNN search the GanOnnx rows beside it use).
    /// </summary>
    public PlainOnnxRuntimeTarget(string modelPath, int threads, GeneratorOptions? cuda = null)
    {
        using var options = cuda is not null ? CudaOptions(cuda.CudaProviderOptions()) : new SessionOptions();
        options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        if (threads > 0) options.IntraOpNumThreads = threads;
        _session = new InferenceSession(modelPath, options);
        _inputNames = _session.InputMetadata.Keys.ToArray();
        _outputNames = [_session.OutputMetadata.Keys.First()];
        _latentDim = _session.InputMetadata.Values.First(m => m.ElementType == typeof(float)).Dimensions[1];
        _conditional = _inputNames.Length > 1;
        if (_conditional && _session.InputMetadata[_inputNames[0]].ElementType != typeof(float))
            throw new GanOnnxException($"'{modelPath}': the plain peer expects the latent input first.");
        Name = "plain-onnxruntime-" + (cuda is null ? "cpu" : "cuda");
    }

    /// <inheritdoc />
    public string Name { get; }

    private static SessionOptions CudaOptions(Dictionary<string, string> settings)
    {
        var options = new SessionOptions();
        try
        {
            using var cuda = new OrtCUDAProviderOptions();
            cuda.UpdateOptions(settings);
            options.AppendExecutionProvider_CUDA(cuda);
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Run(int batch)
    {
        if (!_inputs.TryGetValue(batch, out var inputs))
        {
            var latents = new float[batch * _latentDim];
            new LatentSampler(_latentDim, LatentDistribution.Normal).FillBatch(1, 0, batch, latents);
            inputs = _conditional
                ? [OrtValue.CreateTensorValueFromMemory(latents, [batch, _latentDim]), OrtValue.CreateTensorValueFromMemory(new long[batch], [batch])]
                : [OrtValue.CreateTensorValueFromMemory(latents, [batch, _latentDim])];
            _inputs[batch] = inputs;
        }
        using var outputs = _session.Run(_runOptions, _inputNames, inputs, _outputNames);
        if (outputs[0].GetTensorTypeAndShape().ElementDataType != TensorElementType.Float)
            throw new GanOnnxException("the plain peer expects a float32 output.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var value in _inputs.Values.SelectMany(v => v)) value.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
