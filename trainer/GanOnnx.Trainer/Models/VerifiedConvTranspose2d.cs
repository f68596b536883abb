using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// A <c>ConvTranspose2d</c> whose kernels are verified on this processor. <c>ConvTranspose2d(in, out, kernel, stride, padding, output_padding)</c> — same parameters ([in, out, k, k]), names and
/// initialisation — computed as a stride-1 convolution of the zero-dilated, padded input with the flipped, transposed
/// kernel, through <see cref="ExactConv2d"/>: exact forward and backward on the CPU, where libtorch 2.10's own float32
/// transposed-convolution kernel is not on some processors (see <see cref="ExactConv2d"/>); where
/// <see cref="ConvolutionCheck"/> found the native kernel exact, it is used instead (<see cref="NativeConvolutions"/>).
/// Exported as an ONNX ConvTranspose.
/// </summary>
public sealed class VerifiedConvTranspose2d : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    /// <summary>Creates the layer with PyTorch's default initialisation of ConvTranspose2d.</summary>
    public VerifiedConvTranspose2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long outputPadding = 0, bool hasBias = true)
        : base(nameof(VerifiedConvTranspose2d))
    {
        if (padding < 0 || padding > kernelSize - 1)
            throw new TrainerException($"Padding {padding} does not fit a {kernelSize}×{kernelSize} transposed convolution; it must be between 0 and {kernelSize - 1}.");
        if (outputPadding < 0 || outputPadding >= stride)
            throw new TrainerException($"Output padding {outputPadding} must be between 0 and stride − 1 ({stride - 1}).");
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        OutputPadding = outputPadding;
        using var template = ConvTranspose2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, output_padding: outputPadding, bias: hasBias);
        weight = new Parameter(template.weight!.detach().clone());
        bias = hasBias ? new Parameter(template.bias!.detach().clone()) : null;
        RegisterComponents();
    }

    /// <summary>Input channels.</summary>
    public long InChannels { get; }
    /// <summary>Output channels.</summary>
    public long OutChannels { get; }
    /// <summary>Kernel height and width.</summary>
    public long KernelSize { get; }
    /// <summary>Stride.</summary>
    public long Stride { get; }
    /// <summary>Padding (as in ConvTranspose2d).</summary>
    public long Padding { get; }
    /// <summary>Extra rows and columns at the bottom and right of the output (as in ConvTranspose2d).</summary>
    public long OutputPadding { get; }
    /// <summary>Weights, [in, out, k, k] as in ConvTranspose2d.</summary>
    public Parameter Weight => weight;
    /// <summary>Bias, [out], or null.</summary>
    public Parameter? Bias => bias;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        NativeConvolutions.ShapeObserver?.Invoke(this, input.shape);
        if (NativeConvolutions.Enabled) return NativeConvolutions.ConvTranspose2d(input, weight, bias, Stride, Padding, OutputPadding);
        using var scope = NewDisposeScope();
        var edge = KernelSize - 1 - Padding;
        var padded = ExactConv2d.DilatePad(input, Stride, edge, edge + OutputPadding, edge, edge + OutputPadding);
        var kernel = weight.flip(2, 3).transpose(0, 1).contiguous();
        return ExactConv2d.Apply(padded, kernel, bias, 1, 0).MoveToOuterDisposeScope();
    }
}
