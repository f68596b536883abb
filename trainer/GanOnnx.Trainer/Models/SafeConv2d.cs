using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// <c>Conv2d(in, out, kernel, stride, padding)</c> — same parameters, names and initialisation — trained through
/// <see cref="ExactConv2d"/> so that its input gradient avoids libtorch 2.10's inexact float32 transposed-convolution
/// kernel. Used in discriminators and the evaluation classifier (which are never exported).
/// </summary>
public sealed class SafeConv2d : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    /// <summary>Creates the layer with PyTorch's default initialisation of Conv2d.</summary>
    public SafeConv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0) : base(nameof(SafeConv2d))
    {
        Stride = stride;
        Padding = padding;
        using var template = Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding);
        weight = new Parameter(template.weight!.detach().clone());
        bias = new Parameter(template.bias!.detach().clone());
        RegisterComponents();
    }

    /// <summary>Stride.</summary>
    public long Stride { get; }
    /// <summary>Zero padding on every side.</summary>
    public long Padding { get; }
    /// <summary>Weights, [out, in, k, k].</summary>
    public Parameter Weight => weight;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => ExactConv2d.Apply(input, weight, bias, Stride, Padding);
}
