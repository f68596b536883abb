using System.Text.Json.Serialization;

namespace GanOnnx.Trainer.Models;

/// <summary>Which kernels the trainer's convolutions (<see cref="VerifiedConv2d"/>, <see cref="VerifiedConvTranspose2d"/>) use.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConvolutionKernels>))]
public enum ConvolutionKernels
{
    /// <summary>libtorch's native kernels where a start-up self-check finds them exact on this processor, else the exact path.</summary>
    Auto,
    /// <summary>libtorch's native kernels, unchecked (fastest).</summary>
    Native,
    /// <summary><see cref="ExactConv2d"/>: forward convolutions only, exact on every processor (slower).</summary>
    Exact,
}
