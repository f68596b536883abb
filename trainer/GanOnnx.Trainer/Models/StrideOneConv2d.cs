using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// <c>Conv2d(in, out, kernel, stride: 1, padding)</c> with the same parameters and initialisation, trained through
/// <see cref="ExactConv2d"/> so that its input gradient avoids libtorch's inexact float32 stride-1 transposed kernel.
/// Used in discriminators (which are never exported).
/// </summary>
public sealed class StrideOneConv2d : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly long _padding;

    /// <summary>Creates the layer with PyTorch's default initialisation of Conv2d.</summary>
    public StrideOneConv2d(long inChannels, long outChannels, long kernelSize, long padding) : base(nameof(StrideOneConv2d))
    {
        _padding = padding;
        using var template = Conv2d(inChannels, outChannels, kernelSize, stride: 1, padding: padding);
        weight = new Parameter(template.weight!.detach().clone());
        bias = new Parameter(template.bias!.detach().clone());
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => ExactConv2d.Apply(input, weight, bias, _padding);
}
