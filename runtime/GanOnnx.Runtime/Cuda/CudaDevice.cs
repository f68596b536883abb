namespace GanOnnx.Runtime.Cuda;

/// <summary>One NVIDIA GPU as the driver reports it.</summary>
/// <param name="Index">The CUDA device index (the provider's device id).</param>
/// <param name="Name">The GPU's name, e.g. "NVIDIA H200".</param>
/// <param name="ComputeCapability">Compute capability, e.g. "9.0".</param>
/// <param name="TotalMemoryBytes">Device memory in bytes.</param>
public sealed record CudaDevice(int Index, string Name, string ComputeCapability, long TotalMemoryBytes);
