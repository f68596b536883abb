using System.Runtime.InteropServices;
using GanOnnx.Runtime.Cuda;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GanOnnx.Runtime;

/// <summary>
/// Pinned input and output buffers for up to <see cref="Capacity"/> images (the session's largest batch), reused: a warm
/// generation loop allocates no managed memory of its own and marshals no names. Each batch size in use gets its own
/// ONNX Runtime IO binding over the first part of the same buffers, bound once. On the CUDA provider the bindings point
/// at device buffers allocated here; latents are copied in and images copied out through page-locked host buffers, and
/// with CUDA graphs each binding replays its own captured graph. Owns native handles.
/// </summary>
internal sealed class RunBuffers : IDisposable
{
    private readonly InferenceSession _session;
    private readonly ModelContract _contract;
    private readonly CudaDataPath? _cuda;
    private readonly PixelLayout _pixelLayout;
    private readonly Dictionary<(int Count, bool Pixels), Binding> _bindings = [];
    private readonly List<IntPtr> _deviceBuffers = [];
    private readonly List<IntPtr> _registered = [];
    private readonly List<IDisposable> _disposables = [];
    private IntPtr _latentDevice, _labelDevice, _imageDevice, _pixelDevice;
    private float[]? _images;
    private byte[]? _pixels;

    public RunBuffers(InferenceSession session, ModelContract contract, int capacity, PixelLayout pixelLayout, CudaDataPath? cuda)
    {
        _session = session;
        _contract = contract;
        _pixelLayout = pixelLayout;
        _cuda = cuda;
        Capacity = capacity;
        Latents = GC.AllocateArray<float>(capacity * contract.LatentDim, pinned: true);
        Labels = GC.AllocateArray<long>(capacity, pinned: true);
        try
        {
            _latentDevice = DeviceTwin(Latents, sizeof(float));
            if (contract.IsConditional) _labelDevice = DeviceTwin(Labels, sizeof(long));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The most images one run takes.</summary>
    public int Capacity { get; }
    public float[] Latents { get; }
    public long[] Labels { get; }

    /// <summary>The float32 NCHW images of the last <see cref="Run"/> with pixels false (the first count × image size of them).</summary>
    public float[] Images => _images ?? throw new InvalidOperationException("No float run yet.");

    /// <summary>The uint8 pixels of the last <see cref="Run"/> with pixels true (the first count × image size of them).</summary>
    public byte[] Pixels => _pixels ?? throw new InvalidOperationException("No pixel run yet.");

    /// <summary>
    /// Runs the model on the first <paramref name="count"/> <see cref="Latents"/> (and <see cref="Labels"/>) into the first
    /// <paramref name="count"/> <see cref="Images"/> or <see cref="Pixels"/>; with <paramref name="toHost"/> false a CUDA
    /// run leaves the result on the device (<see cref="DeviceResult"/>).
    /// </summary>
    public void Run(RunOptions options, int count, bool pixels, bool toHost = true)
    {
        if (count < 1 || count > Capacity) throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be in [1, {Capacity}].");
        if (!_bindings.TryGetValue((count, pixels), out var run)) _bindings[(count, pixels)] = run = Bind(count, pixels);
        if (_cuda is { } cuda)
        {
            cuda.Runtime.CopyToDevice(_latentDevice, Pinned(Latents), (long)count * _contract.LatentDim * sizeof(float));
            if (_contract.IsConditional) cuda.Runtime.CopyToDevice(_labelDevice, Pinned(Labels), (long)count * sizeof(long));
        }
        _session.RunWithBinding(run.Options ?? options, run.IoBinding);
        if (_cuda is { } c && toHost) c.Runtime.CopyToHost(run.HostOutput, run.DeviceOutput, run.OutputBytes);
    }

    /// <summary>The device address and size of the result of the last CUDA run of <paramref name="count"/> images.</summary>
    public (IntPtr Address, long Bytes) DeviceResult(int count, bool pixels) =>
        _cuda is not null && _bindings.TryGetValue((count, pixels), out var run)
            ? (run.DeviceOutput, run.OutputBytes)
            : throw new InvalidOperationException($"No CUDA run of {count} images yet.");

    private Binding Bind(int count, bool pixels)
    {
        // The tensors first and the binding after them, so that Dispose (in reverse order) releases the binding first.
        var latents = Tensor(Latents, _latentDevice, TensorElementType.Float, [count, _contract.LatentDim], sizeof(float));
        var labels = _contract.IsConditional ? Tensor(Labels, _labelDevice, TensorElementType.Int64, [count], sizeof(long)) : null;
        OrtValue output;
        long bytes;
        IntPtr host, device;
        if (pixels)
        {
            if (_pixels is null)
            {
                _pixels = GC.AllocateArray<byte>(Capacity * _contract.ValuesPerImage, pinned: true);
                _pixelDevice = DeviceTwin(_pixels, sizeof(byte));
            }
            long[] shape = _pixelLayout == PixelLayout.Nhwc
                ? [count, _contract.Height, _contract.Width, _contract.Channels]
                : [count, _contract.Channels, _contract.Height, _contract.Width];
            output = Tensor(_pixels, _pixelDevice, TensorElementType.UInt8, shape, sizeof(byte));
            (bytes, host, device) = ((long)count * _contract.ValuesPerImage, Pinned(_pixels), _pixelDevice);
        }
        else
        {
            if (_images is null)
            {
                _images = GC.AllocateArray<float>(Capacity * _contract.ValuesPerImage, pinned: true);
                _imageDevice = DeviceTwin(_images, sizeof(float));
            }
            output = Tensor(_images, _imageDevice, TensorElementType.Float, [count, _contract.Channels, _contract.Height, _contract.Width], sizeof(float));
            (bytes, host, device) = ((long)count * _contract.ValuesPerImage * sizeof(float), Pinned(_images), _imageDevice);
        }
        var binding = _session.CreateIoBinding();
        _disposables.Add(binding);
        binding.BindInput(_contract.LatentInputName, latents);
        if (labels is not null) binding.BindInput(_contract.LabelInputName!, labels);
        binding.BindOutput(pixels ? Onnx.PixelGraph.OutputName : _contract.ImageOutputName, output);
        RunOptions? options = null;
        if (_cuda is { Graphs: true } cuda)
        {
            options = new RunOptions();
            _disposables.Add(options);
            options.AddRunConfigEntry("gpu_graph_id", cuda.NextGraphId().ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return new Binding(binding, options, host, device, bytes);
    }

    /// <summary>
    /// On CUDA, a device buffer as large as <paramref name="host"/>, which is page-locked for the copies; IntPtr.Zero on the CPU.
    /// </summary>
    private IntPtr DeviceTwin<T>(T[] host, int elementSize) where T : unmanaged
    {
        if (_cuda is not { } cuda) return IntPtr.Zero;
        var bytes = Math.Max((long)host.Length * elementSize, 1);
        var device = cuda.Runtime.Malloc(bytes);
        _deviceBuffers.Add(device);
        if (cuda.Runtime.HostRegister(Pinned(host), bytes)) _registered.Add(Pinned(host));
        return device;
    }

    /// <summary>An OrtValue of <paramref name="shape"/> over the start of <paramref name="host"/> (CPU) or of its device twin (CUDA).</summary>
    private OrtValue Tensor<T>(T[] host, IntPtr device, TensorElementType type, long[] shape, int elementSize) where T : unmanaged
    {
        var bytes = shape.Aggregate(1L, (a, b) => a * b) * elementSize;
        var value = _cuda is { } cuda
            ? OrtValue.CreateTensorValueWithData(cuda.DeviceMemory, type, shape, device, bytes)
            : OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, type, shape, Pinned(host), bytes);
        _disposables.Add(value);
        return value;
    }

    /// <summary>The address of a pinned-heap array (it never moves).</summary>
    private static IntPtr Pinned<T>(T[] array) where T : unmanaged => Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);

    public void Dispose()
    {
        // In reverse order of creation: each binding before the tensors it binds.
        for (var i = _disposables.Count - 1; i >= 0; i--) _disposables[i].Dispose();
        if (_cuda is { } cuda)
        {
            foreach (var host in _registered) cuda.Runtime.HostUnregister(host);
            foreach (var device in _deviceBuffers) cuda.Runtime.Free(device);
        }
        _disposables.Clear();
        _bindings.Clear();
        _registered.Clear();
        _deviceBuffers.Clear();
    }

    private sealed record Binding(OrtIoBinding IoBinding, RunOptions? Options, IntPtr HostOutput, IntPtr DeviceOutput, long OutputBytes);
}
