using GanOnnx.Runtime;
using GanOnnx.Diagnostics;
using GanOnnx.Trainer.Training;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Diagnostics;

/// <summary>
/// A checkpoint's generator run eagerly by TorchSharp in eval mode as a benchmark target: the same work as the ONNX
/// Runtime target (sample latents of (seed, index) with the runtime's sampler, forward pass, copy the images out).
/// </summary>
public sealed class TorchSharpTarget : IBenchmarkTarget
{
    private readonly Generator _generator;
    private readonly LatentSampler _sampler;
    private float[] _latents = [];
    private float[] _images = [];
    private long _index;

    /// <summary>Loads the generator (or its EMA) of <paramref name="checkpointPath"/>; <paramref name="threads"/> 0 keeps TorchSharp's default.</summary>
    public TorchSharpTarget(string checkpointPath, bool ema = false, int threads = 0)
    {
        if (threads > 0) set_num_threads(threads);
        var checkpoint = Checkpoint.Load(checkpointPath);
        _generator = checkpoint.LoadGenerator(checkpointPath, ema ? "generator_ema" : "generator");
        _sampler = new LatentSampler(_generator.Config.LatentDim, _generator.Config.LatentDistribution);
    }

    /// <inheritdoc />
    public string Name => "torchsharp-eager";

    /// <inheritdoc />
    public void Run(int batch)
    {
        var config = _generator.Config;
        var latentSize = batch * config.LatentDim;
        if (_latents.Length < latentSize) _latents = new float[latentSize];
        _sampler.FillBatch(1, _index, batch, _latents);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var z = tensor(_latents.AsSpan(0, latentSize).ToArray(), [batch, config.LatentDim]);
        var labels = config.NumClasses > 0 ? arange(_index, _index + batch, dtype: ScalarType.Int64).remainder(config.NumClasses) : null;
        var images = _generator.forward(z, labels).contiguous();
        var count = (int)images.numel();
        if (_images.Length < count) _images = new float[count];
        images.data<float>().CopyTo(_images, 0);
        _index += batch;
    }

    /// <inheritdoc />
    public void Dispose() => _generator.Dispose();
}
