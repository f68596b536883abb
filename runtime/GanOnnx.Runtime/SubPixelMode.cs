namespace GanOnnx.Runtime;

/// <summary>
/// Whether <see cref="GeneratorSession"/> runs a generator's ConvTranspose layers as convolutions
/// (<see cref="GeneratorOptions.SubPixel"/>), where ONNX Runtime's CPU kernels for them are slow. Three patterns:
/// <list type="bullet">
/// <item>A 4×4, stride-2, padding-1 <c>ConvTranspose</c> whose output (after an element-wise activation) feeds a last
/// such layer with at most four output channels (the DCGANs' last two layers): four 2×2 convolutions, one per output
/// phase, and one stride-4 6×6 <c>ConvTranspose</c> over the four phases.</item>
/// <item>Nearest upsampling by 2 followed by a stride-1, same-padded <c>ConvTranspose</c> (the Keras DCGAN's
/// UpSampling2D + Conv2DTranspose): four convolutions of the small image with the taps that meet summed (a 5×5 kernel
/// becomes four 3×3 ones), put back in place with <c>DepthToSpace</c>.</item>
/// <item>Any other stride-1, same-padded <c>ConvTranspose</c>: a <c>Conv</c> with the kernel flipped.</item>
/// </list>
/// The weights are only rearranged (or, for the upsampling, summed), so the images are the same up to float32 rounding
/// (about 1e-6). On the CPU <c>mnist-dcgan</c> runs about 1.6× and <c>mnist-keras-dcgan</c> about 2.2× as fast.
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
