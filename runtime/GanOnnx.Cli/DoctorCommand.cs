using System.CommandLine;
using GanOnnx.Runtime;
using GanOnnx.Runtime.Cuda;
using Microsoft.ML.OnnxRuntime;

namespace GanOnnx.Cli;

/// <summary>
/// <c>ganonnx doctor</c>: the ONNX Runtime that loaded, its providers, the NVIDIA driver, CUDA and cuDNN it can find,
/// every library the CUDA provider needs (found where, or missing), the GPUs, and which providers are usable here.
/// Exit code 0 when the providers asked for with <c>--require</c> are usable, 1 otherwise.
/// </summary>
internal static class DoctorCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var cudaPath = GanOnnxCli.CudaPathOption();
        var require = new Option<string?>("--require") { Description = "Comma-separated providers that must be usable (cpu, cuda, directml); exit 1 otherwise." };
        var command = new Command("doctor", "Show the ONNX Runtime, CUDA and cuDNN this machine has, and which execution providers are usable.") { cudaPath, require };
        command.SetAction(parse => GanOnnxCli.Guarded(error, () =>
        {
            var required = parse.GetValue(require) is { } requireText
                ? ListOption.Words("--require", requireText, ["cpu", "cuda", "directml", "dml"]).Select(GanOnnxCli.ParseProvider).ToList()
                : [];
            var available = GeneratorSession.AvailableProviders(); // throws a GanOnnxException naming the packages when no native ONNX Runtime loads
            output.WriteLine($"ONNX Runtime: {OrtEnv.Instance().GetVersionString()}, providers built in: {string.Join(", ", available)}");
            var cudaBuiltIn = available.Contains("CUDAExecutionProvider");
            var report = CudaPreflight.Probe(GanOnnxCli.ParseFolders(parse.GetValue(cudaPath)));
            output.Write(report.Describe());

            var usable = new Dictionary<ExecutionProvider, string?>
            {
                [ExecutionProvider.Cpu] = null,
                [ExecutionProvider.Cuda] = !cudaBuiltIn
                    ? "this build's ONNX Runtime has no CUDA provider (build with -p:OnnxRuntimeFlavor=Gpu, or use the GPU bundle)"
                    : report.Problem,
                [ExecutionProvider.DirectMl] = !OperatingSystem.IsWindows() ? "Windows only"
                    : available.Contains("DmlExecutionProvider") ? null : "this build's ONNX Runtime has no DirectML provider",
            };
            foreach (var (provider, whyNot) in usable)
                output.WriteLine($"usable:       {provider,-9} {(whyNot is null ? "yes" : $"no: {whyNot}")}");
            var missing = required.Where(p => p != ExecutionProvider.Auto && usable[p] is not null).ToList();
            if (missing.Count == 0) return 0;
            error.WriteLine($"error: not usable here: {string.Join(", ", missing.Select(p => $"{p} ({usable[p]})"))}");
            return 1;
        }));
        return command;
    }
}
