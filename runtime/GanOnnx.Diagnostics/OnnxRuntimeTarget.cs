using GanOnnx.Runtime;
namespace GanOnnx.Diagnostics;

/// <summary>
/// A <see cref="GeneratorSession"/> as a benchmark target: sampling and inference into a reused buffer, or with
/// <c>onDevice</c> into the session's GPU memory with no copy to the host (<see cref="GeneratorSession.GenerateOnDevice"/>).
/// </summary>
public sealed class OnnxRuntimeTarget : IBenchmarkTarget
{
    private readonly GeneratorSession _session;
    private float[] _buffer = [];
    private byte[] _pixels = [];
    private readonly bool _onDevice;
    private long _index;

    /// <summary>Loads <paramref name="modelPath"/> with <paramref name="options"/>; <paramref name="onDevice"/> leaves each batch on the GPU.</summary>
    public OnnxRuntimeTarget(string modelPath, GeneratorOptions options, bool onDevice = false)
    {
        _session = GeneratorSession.Load(modelPath, options);
        _onDevice = onDevice;
        Name = "onnxruntime-" + _session.Provider.ToString().ToLowerInvariant();
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The session being timed.</summary>
    public GeneratorSession Session => _session;

    /// <inheritdoc />
    public void Run(int batch)
    {
        var size = batch * _session.Contract.ValuesPerImage;
        if (_onDevice)
        {
            _session.GenerateOnDevice(batch, seed: 1, startIndex: _index, consume: static _ => { });
        }
        else if (_session.Options.PixelOutput != PixelLayout.None)
        {
            if (_pixels.Length < size) _pixels = new byte[size];
            _session.GeneratePixelsInto(_pixels, batch, seed: 1, startIndex: _index);
        }
        else
        {
            if (_buffer.Length < size) _buffer = new float[size];
            _session.GenerateInto(_buffer, batch, seed: 1, startIndex: _index);
        }
        _index += batch;
    }

    /// <summary>Device memory in use, in MiB, when the session runs on CUDA; otherwise null.</summary>
    public double? GpuMemoryMiB => _session.DeviceMemoryInUseBytes() is { } bytes ? bytes / (1024.0 * 1024.0) : null;

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}
