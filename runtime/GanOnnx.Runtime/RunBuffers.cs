using System.Runtime.InteropServices;
using GanOnnx.Runtime.Cuda;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GanOnnx.Runtime;

/// <summary>
/// Pinned input and output buffers for one batch size, bound once to the session's inputs and outputs (ONNX Runtime IO
/// binding), and reused: a warm generation loop allocates no managed memory of its own and marshals no names. On the CUDA
/// provider the bindings point at device buffers allocated here; latents are copied in and images copied out through
/// page-locked host buffers, and with CUDA graphs each binding replays its own captured graph. Owns native handles.
/// </summary>
internal sealed class RunBuffers : IDisposable
{
    private readonly InferenceSession _session;
    private readonly ModelContract _contract;
    private readonly CudaDataPath? _cuda;
    private readonly PixelLayout _pixelLayout;
    private readonly List<OrtValue> _values = [];
    private readonly List<IntPtr> _deviceBuffers = [];
    private readonly List<IntPtr> _registered = [];
    private readonly List<IDisposable> _disposables = [];
    private OrtValue? _latentValue, _labelValue;
    private IntPtr _latentDevice, _labelDevice;
    private Binding? _floatRun, _pixelRun;
    private float[]? _images;
    private byte[]? _pixels;

    public RunBuffers(InferenceSession session, ModelContract contract, int batch, PixelLayout pixelLayout, CudaDataPath? cuda)
    {
        _session = session;
        _contract = contract;
        _pixelLayout = pixelLayout;
        _cuda = cuda;
        Batch = batch;
        Latents = GC.AllocateArray<float>(batch * contract.LatentDim, pinned: true);
        Labels = GC.AllocateArray<long>(batch, pinned: true);
        try
        {
            (_latentValue, _latentDevice) = Buffer(Latents, TensorElementType.Float, [batch, contract.LatentDim], sizeof(float));
            if (contract.IsConditional) (_labelValue, _labelDevice) = Buffer(Labels, TensorElementType.Int64, [batch], sizeof(long));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Batch { get; }
    public float[] Latents { get; }
    public long[] Labels { get; }

    /// <summary>The float32 NCHW images of the last <see cref="Run"/> with pixels false.</summary>
    public float[] Images => _images ?? throw new InvalidOperationException("No float run yet.");

    /// <summary>The uint8 pixels of the last <see cref="Run"/> with pixels true.</summary>
    public byte[] Pixels => _pixels ?? throw new InvalidOperationException("No pixel run yet.");

    /// <summary>Runs the model on <see cref="Latents"/> (and <see cref="Labels"/>) into <see cref="Images"/> or <see cref="Pixels"/>.</summary>
    public void Run(RunOptions options, bool pixels)
    {
        var run = pixels ? (_pixelRun ??= BindPixels()) : (_floatRun ??= BindImages());
        if (_cuda is { } cuda)
        {
            cuda.Runtime.CopyToDevice(_latentDevice, Pinned(Latents), (long)Latents.Length * sizeof(float));
            if (_labelValue is not null) cuda.Runtime.CopyToDevice(_labelDevice, Pinned(Labels), (long)Labels.Length * sizeof(long));
        }
        _session.RunWithBinding(run.Options ?? options, run.IoBinding);
        if (_cuda is { } c) c.Runtime.CopyToHost(run.HostOutput, run.DeviceOutput, run.OutputBytes);
    }

    private Binding BindImages()
    {
        _images = GC.AllocateArray<float>(Batch * _contract.ImageSize, pinned: true);
        var (value, device) = Buffer(_images, TensorElementType.Float, [Batch, _contract.Channels, _contract.Height, _contract.Width], sizeof(float));
        return Bind(_contract.ImageOutputName, value, Pinned(_images), device, (long)_images.Length * sizeof(float));
    }

    private Binding BindPixels()
    {
        _pixels = GC.AllocateArray<byte>(Batch * _contract.ImageSize, pinned: true);
        long[] shape = _pixelLayout == PixelLayout.Nhwc
            ? [Batch, _contract.Height, _contract.Width, _contract.Channels]
            : [Batch, _contract.Channels, _contract.Height, _contract.Width];
        var (value, device) = Buffer(_pixels, TensorElementType.UInt8, shape, sizeof(byte));
        return Bind(Onnx.PixelGraph.OutputName, value, Pinned(_pixels), device, _pixels.Length);
    }

    private Binding Bind(string output, OrtValue outputValue, IntPtr host, IntPtr device, long bytes)
    {
        var binding = _session.CreateIoBinding();
        _disposables.Add(binding);
        binding.BindInput(_contract.LatentInputName, _latentValue!);
        if (_labelValue is not null) binding.BindInput(_contract.LabelInputName!, _labelValue);
        binding.BindOutput(output, outputValue);
        RunOptions? options = null;
        if (_cuda is { Graphs: true } cuda)
        {
            options = new RunOptions();
            _disposables.Add(options);
            options.AddRunConfigEntry("gpu_graph_id", cuda.NextGraphId().ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return new Binding(binding, options, host, device, bytes);
    }

    /// <summary>An OrtValue over <paramref name="host"/> (CPU), or over a new device buffer of the same size (CUDA).</summary>
    private (OrtValue Value, IntPtr Device) Buffer<T>(T[] host, TensorElementType type, long[] shape, int elementSize) where T : unmanaged
    {
        var bytes = (long)host.Length * elementSize;
        if (_cuda is not { } cuda)
        {
            var hostValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, type, shape, Pinned(host), bytes);
            _values.Add(hostValue);
            return (hostValue, IntPtr.Zero);
        }
        var device = cuda.Runtime.Malloc(Math.Max(bytes, 1));
        _deviceBuffers.Add(device);
        if (cuda.Runtime.HostRegister(Pinned(host), Math.Max(bytes, 1))) _registered.Add(Pinned(host));
        var value = OrtValue.CreateTensorValueWithData(cuda.DeviceMemory, type, shape, device, bytes);
        _values.Add(value);
        return (value, device);
    }

    /// <summary>The address of a pinned-heap array (it never moves).</summary>
    private static IntPtr Pinned<T>(T[] array) where T : unmanaged => Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);

    public void Dispose()
    {
        foreach (var d in _disposables) d.Dispose();
        foreach (var v in _values) v.Dispose();
        if (_cuda is { } cuda)
        {
            foreach (var host in _registered) cuda.Runtime.HostUnregister(host);
            foreach (var device in _deviceBuffers) cuda.Runtime.Free(device);
        }
        _disposables.Clear();
        _values.Clear();
        _registered.Clear();
        _deviceBuffers.Clear();
    }

    private sealed record Binding(OrtIoBinding IoBinding, RunOptions? Options, IntPtr HostOutput, IntPtr DeviceOutput, long OutputBytes);
}
