using System.Runtime.InteropServices;

namespace GanOnnx.Runtime.Cuda;

/// <summary>
/// The few CUDA runtime functions the device data path calls itself (device buffers, copies, page-locking of host
/// buffers, memory use), bound from the <c>cudart</c> that <see cref="CudaPreflight"/> loaded. Every failure is a
/// <see cref="GanOnnxException"/> naming the function and CUDA's error code.
/// </summary>
internal sealed unsafe class CudaRuntime
{
    private const int HostToDevice = 1, DeviceToHost = 2;
    private readonly delegate* unmanaged<IntPtr*, nuint, int> _malloc;
    private readonly delegate* unmanaged<IntPtr, int> _free;
    private readonly delegate* unmanaged<IntPtr, IntPtr, nuint, int, int> _memcpy;
    private readonly delegate* unmanaged<IntPtr, nuint, uint, int> _hostRegister;
    private readonly delegate* unmanaged<IntPtr, int> _hostUnregister;
    private readonly delegate* unmanaged<int, int> _setDevice;
    private readonly delegate* unmanaged<nuint*, nuint*, int> _memGetInfo;
    private readonly delegate* unmanaged<IntPtr, int> _streamSynchronize;

    private CudaRuntime(IntPtr library)
    {
        _malloc = (delegate* unmanaged<IntPtr*, nuint, int>)NativeLibrary.GetExport(library, "cudaMalloc");
        _free = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "cudaFree");
        _memcpy = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, int>)NativeLibrary.GetExport(library, "cudaMemcpy");
        _hostRegister = (delegate* unmanaged<IntPtr, nuint, uint, int>)NativeLibrary.GetExport(library, "cudaHostRegister");
        _hostUnregister = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "cudaHostUnregister");
        _setDevice = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(library, "cudaSetDevice");
        _memGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)NativeLibrary.GetExport(library, "cudaMemGetInfo");
        _streamSynchronize = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "cudaStreamSynchronize");
    }

    /// <summary>Binds to the CUDA runtime the preflight loaded; throws when it is not loaded.</summary>
    public static CudaRuntime Load()
    {
        var runtime = CudaLibrary.ForThisSystem()[1].FileName;
        if (!NativeLibrary.TryLoad(runtime, out var handle))
            throw new GanOnnxException($"{runtime} is not loaded; run the CUDA preflight (GeneratorOptions.CudaLibraryFolders or {CudaPreflight.PathVariable}) first.");
        try
        {
            return new CudaRuntime(handle);
        }
        catch (EntryPointNotFoundException ex)
        {
            throw new GanOnnxException($"{runtime} lacks a function the device data path needs: {ex.Message}", ex);
        }
    }

    public void SetDevice(int device) => Check(_setDevice(device), "cudaSetDevice");

    public IntPtr Malloc(long bytes)
    {
        IntPtr pointer;
        Check(_malloc(&pointer, (nuint)bytes), "cudaMalloc");
        return pointer;
    }

    public void Free(IntPtr pointer)
    {
        if (pointer != IntPtr.Zero) _free(pointer);
    }

    /// <summary>
    /// Copies host memory to the device and waits until the copy is complete: ONNX Runtime then reads the buffer on its
    /// own stream, which does not wait for the legacy default stream the copy ran on (a copy from pageable memory may
    /// otherwise still be in flight when cudaMemcpy returns).
    /// </summary>
    public void CopyToDevice(IntPtr device, IntPtr host, long bytes)
    {
        Check(_memcpy(device, host, (nuint)bytes, HostToDevice), "cudaMemcpy (host to device)");
        Check(_streamSynchronize(IntPtr.Zero), "cudaStreamSynchronize");
    }

    public void CopyToHost(IntPtr host, IntPtr device, long bytes) => Check(_memcpy(host, device, (nuint)bytes, DeviceToHost), "cudaMemcpy (device to host)");

    /// <summary>
    /// Page-locks a host buffer that never moves (a pinned-heap array), so copies to and from it are DMA transfers. Returns
    /// false when a page of it is already registered (two small arrays can share a page): the copies then still work,
    /// staged by the driver, and nothing is to be unregistered.
    /// </summary>
    public bool HostRegister(IntPtr host, long bytes)
    {
        const int alreadyRegistered = 712; // cudaErrorHostMemoryAlreadyRegistered
        var code = _hostRegister(host, (nuint)bytes, 0);
        if (code == alreadyRegistered) return false;
        Check(code, "cudaHostRegister");
        return true;
    }

    public void HostUnregister(IntPtr host) => _hostUnregister(host);

    /// <summary>Device memory in use on the current device (all processes), in bytes.</summary>
    public long MemoryInUse()
    {
        nuint free, total;
        Check(_memGetInfo(&free, &total), "cudaMemGetInfo");
        return (long)(total - free);
    }

    private static void Check(int code, string function)
    {
        if (code != 0) throw new GanOnnxException($"{function} failed with CUDA error {code}.");
    }
}
