using static TorchSharp.torch;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// The switch between libtorch's native convolution kernels and <see cref="ExactConv2d"/> for every
/// <see cref="VerifiedConv2d"/> and <see cref="VerifiedConvTranspose2d"/> in the process (training sets it once at start-up from
/// <see cref="ConvolutionCheck"/> or the <see cref="ConvolutionKernels"/> option), and the kernels themselves, which tests
/// replace to inject a faulty one.
/// </summary>
public static class NativeConvolutions
{
    /// <summary>Whether the native kernels are in use (default false: the exact path, correct everywhere).</summary>
    public static bool Enabled { get; set; }

    /// <summary>The native forward convolution: (input, weight, bias, stride, padding).</summary>
    internal static Func<Tensor, Tensor, Tensor?, long, long, Tensor> Conv2d { get; set; } = DefaultConv2d;

    /// <summary>The native transposed convolution: (input, weight, bias, stride, padding, output padding).</summary>
    internal static Func<Tensor, Tensor, Tensor?, long, long, long, Tensor> ConvTranspose2d { get; set; } = DefaultConvTranspose2d;

    /// <summary>Called with each layer and its input's shape on every forward pass, while set (the self-check's survey).</summary>
    internal static Action<object, long[]>? ShapeObserver { get; set; }

    /// <summary>Puts the real kernels back (after a test injected others).</summary>
    internal static void ResetKernels()
    {
        Conv2d = DefaultConv2d;
        ConvTranspose2d = DefaultConvTranspose2d;
    }

    private static Tensor DefaultConv2d(Tensor x, Tensor w, Tensor? b, long stride, long padding) =>
        nn.functional.conv2d(x, w, b, strides: [stride, stride], padding: [padding, padding]);

    private static Tensor DefaultConvTranspose2d(Tensor x, Tensor w, Tensor? b, long stride, long padding, long outputPadding) =>
        nn.functional.conv_transpose2d(x, w, b, strides: [stride, stride], padding: [padding, padding], output_padding: [outputPadding, outputPadding]);
}
