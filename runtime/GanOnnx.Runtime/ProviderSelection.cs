using GanOnnx.Runtime.Cuda;
using Microsoft.ML.OnnxRuntime;

namespace GanOnnx.Runtime;

/// <summary>Appends the requested execution provider to session options, with messages that name the package to install.</summary>
internal static class ProviderSelection
{
    public const string CpuPackage = "Microsoft.ML.OnnxRuntime";
    public const string CudaPackage = "Microsoft.ML.OnnxRuntime.Gpu (or .Gpu.Linux / .Gpu.Windows)";
    public const string DirectMlPackage = "Microsoft.ML.OnnxRuntime.DirectML";

    /// <summary>The execution providers compiled into the loaded ONNX Runtime native library.</summary>
    public static IReadOnlyList<string> Available()
    {
        try
        {
            return OrtEnv.Instance().GetAvailableProviders();
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException)
        {
            throw new GanOnnxException(
                $"The ONNX Runtime native library could not be loaded ({ex.GetBaseException().Message}). GanOnnx.Runtime references only " +
                $"Microsoft.ML.OnnxRuntime.Managed: add one native package to your application, {CpuPackage} (CPU), {CudaPackage} (CUDA) or {DirectMlPackage} (DirectML).", ex);
        }
    }

    /// <summary>
    /// Configures <paramref name="session"/> for <paramref name="options"/>, given the <paramref name="available"/> providers,
    /// and returns the provider used and a report of the choice.
    /// </summary>
    public static (ExecutionProvider Provider, string Report) Apply(SessionOptions session, GeneratorOptions options, IReadOnlyList<string> available)
    {
        switch (options.Provider)
        {
            case ExecutionProvider.Cpu:
                return (ExecutionProvider.Cpu, "CPU (requested).");
            case ExecutionProvider.Cuda:
                TryCuda(session, options, available, out var cudaWhy);
                if (cudaWhy is not null) throw new GanOnnxException($"The CUDA execution provider was requested but cannot be used: {cudaWhy}");
                return (ExecutionProvider.Cuda, $"CUDA device {options.DeviceId} (requested{(options.CudaGraph ? ", CUDA graphs" : "")}).");
            case ExecutionProvider.DirectMl:
                TryDirectMl(session, options, available, out var dmlWhy);
                if (dmlWhy is not null) throw new GanOnnxException($"The DirectML execution provider was requested but cannot be used: {dmlWhy}");
                return (ExecutionProvider.DirectMl, $"DirectML device {options.DeviceId} (requested).");
            default:
                TryCuda(session, options, available, out var autoCudaWhy);
                if (autoCudaWhy is null) return (ExecutionProvider.Cuda, $"CUDA device {options.DeviceId} (auto{(options.CudaGraph ? ", CUDA graphs" : "")}).");
                TryDirectMl(session, options, available, out var autoDmlWhy);
                if (autoDmlWhy is null) return (ExecutionProvider.DirectMl, $"DirectML device {options.DeviceId} (auto; CUDA not taken: {autoCudaWhy})");
                return (ExecutionProvider.Cpu, $"CPU (auto; CUDA not taken: {autoCudaWhy} DirectML not taken: {autoDmlWhy})");
        }
    }

    private static void TryCuda(SessionOptions session, GeneratorOptions options, IReadOnlyList<string> available, out string? whyNot)
    {
        whyNot = null;
        if (!available.Contains("CUDAExecutionProvider"))
        {
            whyNot = $"the loaded ONNX Runtime has no CUDA provider (it has {string.Join(", ", available)}); install {CudaPackage} instead of {CpuPackage}, with CUDA and cuDNN on the machine.";
            return;
        }
        var preflight = CudaPreflight.Probe(options.CudaLibraryFolders);
        if (!preflight.Ready)
        {
            whyNot = preflight.Problem;
            return;
        }
        try
        {
            using var cuda = new OrtCUDAProviderOptions();
            cuda.UpdateOptions(options.CudaProviderOptions());
            session.AppendExecutionProvider_CUDA(cuda);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            whyNot = $"CUDA failed to initialise on device {options.DeviceId} ({ex.Message}); check the NVIDIA driver, CUDA and cuDNN versions that {CudaPackage} needs.";
        }
    }

    private static void TryDirectMl(SessionOptions session, GeneratorOptions options, IReadOnlyList<string> available, out string? whyNot)
    {
        whyNot = null;
        if (!OperatingSystem.IsWindows())
        {
            whyNot = "DirectML runs only on Windows.";
            return;
        }
        if (!available.Contains("DmlExecutionProvider"))
        {
            whyNot = $"the loaded ONNX Runtime has no DirectML provider (it has {string.Join(", ", available)}); install {DirectMlPackage} instead of {CpuPackage}.";
            return;
        }
        try
        {
            // DirectML requires memory patterns off and sequential execution.
            session.EnableMemoryPattern = false;
            session.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
            session.AppendExecutionProvider_DML(options.DeviceId);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            whyNot = $"DirectML failed to initialise on device {options.DeviceId} ({ex.Message}).";
        }
    }
}
