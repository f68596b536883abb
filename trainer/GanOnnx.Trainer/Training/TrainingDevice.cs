using TorchSharp;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Training;

/// <summary>Parses <c>--device</c> (cpu, cuda, cuda:N) and checks that TorchSharp can use it.</summary>
public static class TrainingDevice
{
    /// <summary>
    /// The TorchSharp device named by <paramref name="name"/>. CUDA devices need a CUDA build of libtorch: build with
    /// <c>-p:TorchBackend=Cuda</c> (TorchSharp-cuda-linux or TorchSharp-cuda-windows); without one this throws a
    /// <see cref="TrainerException"/> that says so instead of failing at the first tensor.
    /// </summary>
    public static Device Resolve(string name)
    {
        var text = name.Trim().ToLowerInvariant();
        if (text == "cpu") return CPU;
        if (text != "cuda" && !text.StartsWith("cuda:", StringComparison.Ordinal))
            throw new TrainerException($"GanTrainer.Device is '{name}'; choose cpu, cuda or cuda:N (N = GPU index).");
        var index = 0;
        if (text != "cuda" && (!int.TryParse(text.AsSpan(5), out index) || index < 0))
            throw new TrainerException($"GanTrainer.Device is '{name}'; the GPU index after 'cuda:' must be a number 0 or more.");
        if (!cuda.is_available())
            throw new TrainerException(
                $"GanTrainer.Device {name}: TorchSharp found no usable CUDA libtorch. This build carries the CPU libtorch; rebuild with " +
                "-p:TorchBackend=Cuda (packages TorchSharp-cuda-linux / TorchSharp-cuda-windows) on a machine with an NVIDIA driver, or train with GanTrainer.Device cpu.");
        var count = cuda.device_count();
        if (index >= count)
            throw new TrainerException($"GanTrainer.Device {name}: there {(count == 1 ? "is 1 CUDA device" : $"are {count} CUDA devices")} (indices 0–{count - 1}).");
        return new Device(DeviceType.CUDA, index);
    }
}
