using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// A stride-1 transposed convolution with the parameters (names, shapes, initialisation) of
/// <c>ConvTranspose2d(in, out, kernel, stride: 1, padding)</c>, computed as the equivalent ordinary convolution
/// (kernel flipped, in/out swapped, padding kernel − 1 − padding) by <see cref="ExactConv2d"/>.
/// </summary>
/// <remarks>
/// Why: libtorch 2.10's float32 CPU kernel for stride-1 ConvTranspose2d with few input channels returns wrong values,
/// NaN, and different results for the same input (measured: up to 0.78 off from float64 with 3 input channels), and its
/// Conv2d backward uses that kernel; its forward Conv2d is exact. Stride-2 transposed convolutions are not affected and
/// stay <c>ConvTranspose2d</c>.
/// The exporter writes this layer as an ONNX ConvTranspose.
/// </remarks>
public sealed class StrideOneConvTranspose2d : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    /// <summary>Creates the layer with PyTorch's default initialisation of ConvTranspose2d.</summary>
    public StrideOneConvTranspose2d(long inChannels, long outChannels, long kernelSize, long padding) : base(nameof(StrideOneConvTranspose2d))
    {
        if (padding < 0 || padding > kernelSize - 1)
            throw new TrainerException($"Padding {padding} does not fit a {kernelSize}×{kernelSize} transposed convolution; it must be between 0 and {kernelSize - 1}.");
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Padding = padding;
        using var template = ConvTranspose2d(inChannels, outChannels, kernelSize, stride: 1, padding: padding);
        weight = new Parameter(template.weight!.detach().clone());
        bias = new Parameter(template.bias!.detach().clone());
        RegisterComponents();
    }

    /// <summary>Input channels.</summary>
    public long InChannels { get; }
    /// <summary>Output channels.</summary>
    public long OutChannels { get; }
    /// <summary>Kernel height and width.</summary>
    public long KernelSize { get; }
    /// <summary>Padding of the transposed convolution (as in ConvTranspose2d).</summary>
    public long Padding { get; }
    /// <summary>Weights, [in, out, k, k] as in ConvTranspose2d.</summary>
    public Parameter Weight => weight;
    /// <summary>Bias, [out].</summary>
    public Parameter Bias => bias;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var kernel = weight.flip(2, 3).transpose(0, 1);
        var pad = KernelSize - 1 - Padding;
        return ExactConv2d.Apply(input, kernel, bias, pad).MoveToOuterDisposeScope();
    }
}
