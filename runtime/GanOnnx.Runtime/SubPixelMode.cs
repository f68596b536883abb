namespace GanOnnx.Runtime;

/// <summary>
/// Whether <see cref="GeneratorSession"/> runs a DCGAN's last two upsampling layers as sub-pixel convolutions
/// (<see cref="GeneratorOptions.SubPixel"/>). A <c>ConvTranspose</c> with a 4×4 kernel, stride 2 and padding 1 whose
/// output (after an element-wise activation) feeds a last such layer with at most four output channels is rewritten as
/// four 2×2 convolutions, one per output phase, and the last layer as one stride-4 6×6 <c>ConvTranspose</c> over the
/// four phases. The weights are only rearranged, so the images are the same up to float32 rounding (about 1e-6); on
/// the CPU ONNX Runtime's convolution kernels run <c>mnist-dcgan</c> about 1.6× faster at batch 64 and 256.
/// </summary>
public enum SubPixelMode
{
    /// <summary>Rewrite on the CPU provider, where it was measured faster; leave the model as it is elsewhere.</summary>
    Auto,
    /// <summary>Rewrite on every provider.</summary>
    On,
    /// <summary>Never rewrite: the model's own graph runs.</summary>
    Off,
}
