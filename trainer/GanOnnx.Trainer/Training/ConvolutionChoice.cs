using System.Diagnostics;
using System.Globalization;
using GanOnnx.Trainer.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Training;

/// <summary>Which convolution kernels a training run uses (<see cref="TrainingOptions.Convolutions"/>), decided once at its start.</summary>
internal static class ConvolutionChoice
{
    /// <summary>
    /// Sets <see cref="NativeConvolutions.Enabled"/> for a run from <paramref name="kernels"/>: on the CPU,
    /// Auto runs <see cref="ConvolutionCheck"/> on this model's layers; <paramref name="log"/> says which path the run takes and why. Returns "native" or "exact".
    /// </summary>
    public static string Apply(ConvolutionKernels kernels, Device device, ModelConfig model, TrainingOptions options, Checkpoint? resume, TextWriter log)
    {
        var onCpu = device.type == DeviceType.CPU;
        string why;
        switch (kernels)
        {
            case ConvolutionKernels.Native:
                NativeConvolutions.Enabled = true;
                why = "asked for";
                break;
            case ConvolutionKernels.Exact:
                NativeConvolutions.Enabled = false;
                why = "asked for";
                break;
            default:
                if (!onCpu)
                {
                    NativeConvolutions.Enabled = true;
                    why = "on the GPU";
                    break;
                }
                if (resume?.Info.Extra.GetValueOrDefault(GanTrainer.ConvolutionsKey) is "exact" || (resume is not null && !resume.Info.Extra.ContainsKey(GanTrainer.ConvolutionsKey)))
                {
                    NativeConvolutions.Enabled = false; // the run so far took the exact path: stay on it, so the resume is exact
                    why = "as the checkpoint's run";
                    break;
                }
                var started = Stopwatch.GetTimestamp();
                var check = ConvolutionCheck.Run(model, options.BatchSize, secondDerivatives: options.Loss == LossKind.WganGp);
                NativeConvolutions.Enabled = check.Exact;
                why = string.Create(CultureInfo.InvariantCulture,
                    $"self-check {(check.Exact ? "passed" : "FAILED")} in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms: {check}");
                break;
        }
        var used = NativeConvolutions.Enabled ? "native" : "exact";
        log.WriteLine($"Convolutions: {(NativeConvolutions.Enabled ? "libtorch's native kernels" : "the exact path (forward convolutions only)")} ({why}).");
        if (resume?.Info.Extra.GetValueOrDefault(GanTrainer.ConvolutionsKey) is { } before && before != used)
            log.WriteLine($"The checkpoint was trained with the {before} convolutions; this run continues with the {used} ones, so it will not end bit for bit where an uninterrupted run would.");
        return used;
    }
}
