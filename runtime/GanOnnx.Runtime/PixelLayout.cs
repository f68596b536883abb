namespace GanOnnx.Runtime;

/// <summary>
/// The layout of the 8-bit pixel output that <see cref="GeneratorOptions.PixelOutput"/> adds to a model: the value
/// mapping to 0…255 (scale, clamp, round, cast) then runs inside the ONNX graph, on the execution provider.
/// </summary>
public enum PixelLayout
{
    /// <summary>No pixel output; only the model's own float32 NCHW output.</summary>
    None,
    /// <summary>uint8 [batch, height, width, channels]: interleaved, as image libraries and encoders want it.</summary>
    Nhwc,
    /// <summary>uint8 [batch, channels, height, width]: planes, as the model's own output.</summary>
    Nchw,
}
