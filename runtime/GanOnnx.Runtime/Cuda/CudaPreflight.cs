using System.Globalization;
using System.Runtime.InteropServices;

namespace GanOnnx.Runtime.Cuda;

/// <summary>
/// Finds out, before ONNX Runtime's CUDA provider is appended, which of the CUDA and cuDNN libraries it needs can be
/// loaded, loading them in dependency order from folders the user names (<see cref="GeneratorOptions.CudaLibraryFolders"/>
/// and the <see cref="PathVariable"/> environment variable) and then from the system's search path. A library loaded
/// here stays loaded for the life of the process, and the loader then satisfies ONNX Runtime's own requests for it by
/// name, so CUDA installed in a Python environment or a toolkit folder works without LD_LIBRARY_PATH.
/// </summary>
public static class CudaPreflight
{
    /// <summary>Environment variable with folders of CUDA libraries, separated like PATH (':' on Linux, ';' on Windows).</summary>
    public const string PathVariable = "GANONNX_CUDA_PATH";

    private static readonly object Gate = new();

    /// <summary>
    /// Loads what it can of <see cref="CudaLibrary.ForThisSystem"/> from <paramref name="folders"/>, the folders of
    /// <see cref="PathVariable"/> and the system's search path, and reports versions and GPUs. Never throws for a
    /// missing library: the report says what is missing and where it looked.
    /// </summary>
    public static CudaReport Probe(IEnumerable<string>? folders = null)
    {
        var searched = ExpandFolders((folders ?? []).Concat(FromEnvironment()));
        lock (Gate)
        {
            var statuses = new List<CudaLibraryStatus>();
            var handles = new Dictionary<string, IntPtr>();
            foreach (var library in CudaLibrary.ForThisSystem())
            {
                var status = Load(library, searched, out var handle);
                statuses.Add(status);
                if (status.Loaded) handles[library.FileName] = handle;
            }
            var libraries = CudaLibrary.ForThisSystem(); // driver first, CUDA runtime second, cuDNN's loader last
            var driver = handles.GetValueOrDefault(libraries[0].FileName);
            var runtime = handles.GetValueOrDefault(libraries[1].FileName);
            var cudnn = handles.GetValueOrDefault(libraries[^1].FileName);
            var (devices, deviceError) = driver == IntPtr.Zero ? ([], "no NVIDIA driver") : Devices(driver);
            return new CudaReport
            {
                Libraries = statuses,
                SearchedFolders = searched,
                DriverCudaVersion = driver == IntPtr.Zero ? null : IntVersion(driver, "cuDriverGetVersion"),
                RuntimeVersion = runtime == IntPtr.Zero ? null : IntVersion(runtime, "cudaRuntimeGetVersion"),
                CudnnVersion = cudnn == IntPtr.Zero ? null : CudnnVersionOf(cudnn),
                Devices = devices,
                DeviceError = deviceError,
            };
        }
    }

    /// <summary>The folders of <see cref="PathVariable"/>.</summary>
    public static IEnumerable<string> FromEnvironment() =>
        (Environment.GetEnvironmentVariable(PathVariable) ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// Each folder, then the library folders below it that CUDA installs use: <c>lib64</c>, <c>lib</c>, <c>bin</c>, and
    /// <c>*/lib</c> and <c>*/bin</c> (the layout of the <c>nvidia-*</c> Python wheels, so that <c>site-packages/nvidia</c>
    /// is enough). Folders that do not exist are kept, so that a report names them.
    /// </summary>
    public static List<string> ExpandFolders(IEnumerable<string> folders)
    {
        var result = new List<string>();
        void Add(string folder)
        {
            var full = Path.GetFullPath(folder);
            if (!result.Contains(full)) result.Add(full);
        }
        foreach (var folder in folders)
        {
            Add(folder);
            if (!Directory.Exists(folder)) continue;
            foreach (var sub in new[] { "lib64", "lib", "bin" })
                if (Directory.Exists(Path.Combine(folder, sub))) Add(Path.Combine(folder, sub));
            foreach (var child in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
                foreach (var sub in new[] { "lib", "bin" })
                    if (Directory.Exists(Path.Combine(child, sub))) Add(Path.Combine(child, sub));
        }
        return result;
    }

    private static CudaLibraryStatus Load(CudaLibrary library, IReadOnlyList<string> folders, out IntPtr handle)
    {
        string? error = null;
        foreach (var folder in folders)
        {
            var path = Path.Combine(folder, library.FileName);
            if (!File.Exists(path)) continue;
            try
            {
                handle = NativeLibrary.Load(path);
                return new CudaLibraryStatus(library, path, null);
            }
            catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
            {
                error = ex.Message; // present but not loadable (a missing dependency, another architecture): keep looking
            }
        }
        try
        {
            handle = NativeLibrary.Load(library.FileName);
            return new CudaLibraryStatus(library, "(system search path)", null);
        }
        catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
        {
            handle = IntPtr.Zero;
            return new CudaLibraryStatus(library, null, error ?? ex.Message);
        }
    }

    private static unsafe string? IntVersion(IntPtr library, string function)
    {
        if (!NativeLibrary.TryGetExport(library, function, out var address)) return null;
        int version;
        if (((delegate* unmanaged<int*, int>)address)(&version) != 0) return null;
        return string.Create(CultureInfo.InvariantCulture, $"{version / 1000}.{version % 1000 / 10}");
    }

    private static unsafe string? CudnnVersionOf(IntPtr library)
    {
        if (!NativeLibrary.TryGetExport(library, "cudnnGetVersion", out var address)) return null;
        var v = (long)((delegate* unmanaged<nuint>)address)();
        return string.Create(CultureInfo.InvariantCulture, $"{v / 10000}.{v % 10000 / 100}.{v % 100}");
    }

    private static unsafe (IReadOnlyList<CudaDevice>, string?) Devices(IntPtr driver)
    {
        if (!NativeLibrary.TryGetExport(driver, "cuInit", out var init)
            || !NativeLibrary.TryGetExport(driver, "cuDeviceGetCount", out var getCount)
            || !NativeLibrary.TryGetExport(driver, "cuDeviceGet", out var get)
            || !NativeLibrary.TryGetExport(driver, "cuDeviceGetName", out var getName)
            || !NativeLibrary.TryGetExport(driver, "cuDeviceTotalMem_v2", out var totalMem)
            || !NativeLibrary.TryGetExport(driver, "cuDeviceGetAttribute", out var getAttribute))
            return ([], "the driver library lacks the device functions");
        var code = ((delegate* unmanaged<uint, int>)init)(0);
        if (code != 0) return ([], $"cuInit returned CUDA error {code}{(code == 100 ? ": no CUDA-capable device" : "")}");
        int count;
        code = ((delegate* unmanaged<int*, int>)getCount)(&count);
        if (code != 0) return ([], $"cuDeviceGetCount returned CUDA error {code}");
        var devices = new List<CudaDevice>();
        var name = stackalloc byte[256];
        for (var i = 0; i < count; i++)
        {
            int device, major, minor;
            nuint bytes;
            if (((delegate* unmanaged<int*, int, int>)get)(&device, i) != 0) continue;
            if (((delegate* unmanaged<byte*, int, int, int>)getName)(name, 256, device) != 0) name[0] = 0;
            ((delegate* unmanaged<nuint*, int, int>)totalMem)(&bytes, device);
            ((delegate* unmanaged<int*, int, int, int>)getAttribute)(&major, 75, device); // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
            ((delegate* unmanaged<int*, int, int, int>)getAttribute)(&minor, 76, device); // …_MINOR
            devices.Add(new CudaDevice(i, Marshal.PtrToStringUTF8((IntPtr)name) ?? "", $"{major}.{minor}", (long)bytes));
        }
        return (devices, count == 0 ? "the driver reports 0 devices" : null);
    }
}
