using System.Globalization;
using System.Text;

namespace GanOnnx.Runtime.Cuda;

/// <summary>What <see cref="CudaPreflight.Probe"/> found: each library ONNX Runtime's CUDA provider needs, the driver, CUDA and cuDNN versions, and the GPUs.</summary>
public sealed record CudaReport
{
    /// <summary>Every library, in the order it was loaded.</summary>
    public required IReadOnlyList<CudaLibraryStatus> Libraries { get; init; }
    /// <summary>The folders searched before the system's own search path, in order.</summary>
    public required IReadOnlyList<string> SearchedFolders { get; init; }
    /// <summary>The CUDA version the driver supports, e.g. "13.0", or null without a driver.</summary>
    public string? DriverCudaVersion { get; init; }
    /// <summary>The CUDA runtime's version, or null when it did not load.</summary>
    public string? RuntimeVersion { get; init; }
    /// <summary>cuDNN's version, or null when it did not load.</summary>
    public string? CudnnVersion { get; init; }
    /// <summary>The GPUs the driver reports (empty without a driver or a GPU).</summary>
    public IReadOnlyList<CudaDevice> Devices { get; init; } = [];
    /// <summary>Why the driver reported no device (its error), or null.</summary>
    public string? DeviceError { get; init; }

    /// <summary>Every required library loaded and at least one GPU present.</summary>
    public bool Ready => Missing.Count == 0 && Devices.Count > 0;

    /// <summary>The required libraries that could not be loaded.</summary>
    public IReadOnlyList<CudaLibraryStatus> Missing => Libraries.Where(l => l.Library.Required && !l.Loaded).ToList();

    /// <summary>Why CUDA cannot be used, naming every missing library and where it was looked for; null when <see cref="Ready"/>.</summary>
    public string? Problem
    {
        get
        {
            if (Missing.Count > 0)
            {
                var where = SearchedFolders.Count == 0 ? "" : $"{string.Join(", ", SearchedFolders)} and ";
                var missing = Missing.GroupBy(m => m.Library.Component).Select(g => $"{g.Key} ({string.Join(", ", g.Select(m => m.Library.FileName))})");
                return $"missing {string.Join(", ", missing)}; looked in {where}the system's library search path. " +
                    $"ONNX Runtime's CUDA provider needs the NVIDIA driver, CUDA 13 and cuDNN 9: install them, or point {CudaPreflight.PathVariable} " +
                    "(ganonnx --cuda-path) at the folders that hold them, such as a Python environment's site-packages/nvidia or a CUDA toolkit's lib64.";
            }
            if (Devices.Count == 0) return $"the CUDA libraries loaded but the driver reports no GPU ({DeviceError ?? "no devices"}).";
            return null;
        }
    }

    /// <summary>A multi-line description for <c>ganonnx doctor</c>.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"driver:       {(DriverCudaVersion is null ? "not found" : $"supports CUDA {DriverCudaVersion}")}");
        text.AppendLine(CultureInfo.InvariantCulture, $"CUDA runtime: {RuntimeVersion ?? "not found"}");
        text.AppendLine(CultureInfo.InvariantCulture, $"cuDNN:        {CudnnVersion ?? "not found"}");
        if (Devices.Count == 0) text.AppendLine(CultureInfo.InvariantCulture, $"GPUs:         none{(DeviceError is null ? "" : $" ({DeviceError})")}");
        foreach (var d in Devices)
            text.AppendLine(CultureInfo.InvariantCulture, $"GPU {d.Index}:        {d.Name}, compute capability {d.ComputeCapability}, {d.TotalMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB");
        text.AppendLine(CultureInfo.InvariantCulture, $"searched:     {(SearchedFolders.Count == 0 ? "(no extra folders)" : string.Join(", ", SearchedFolders))}, then the system's search path");
        foreach (var l in Libraries)
            text.AppendLine(CultureInfo.InvariantCulture, $"  {(l.Loaded ? "ok     " : l.Library.Required ? "MISSING" : "absent ")} {l.Library.FileName,-40} {l.LoadedFrom ?? (l.Library.Required ? "" : "(optional: only some operators use it)")}");
        return text.ToString();
    }
}
