using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// A <c>Conv2d</c> whose kernels are verified on this processor. <c>Conv2d(in, out, kernel, stride, padding)</c> — same parameters, names and initialisation — trained through
/// <see cref="ExactConv2d"/> so that its input gradient avoids libtorch 2.10's float32 transposed-convolution kernel
/// where it is inexact, or through libtorch's native kernels where <see cref="ConvolutionCheck"/> found them exact
/// (<see cref="NativeConvolutions"/>). Used in discriminators and the evaluation classifier (which are never exported). With
/// <c>spectralNorm</c>, the weight is divided by its largest singular value (<see cref="SpectralNorm"/>).
/// </summary>
public sealed class VerifiedConv2d : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly Tensor? weight_u;

    /// <summary>Creates the layer with PyTorch's default initialisation of Conv2d.</summary>
    public VerifiedConv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool spectralNorm = false) : base(nameof(VerifiedConv2d))
    {
        Stride = stride;
        Padding = padding;
        using var template = Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding);
        weight = new Parameter(template.weight!.detach().clone());
        bias = new Parameter(template.bias!.detach().clone());
        if (spectralNorm) weight_u = SpectralNorm.InitialVector(outChannels);
        RegisterComponents();
    }

    /// <summary>Stride.</summary>
    public long Stride { get; }
    /// <summary>Zero padding on every side.</summary>
    public long Padding { get; }
    /// <summary>Weights, [out, in, k, k].</summary>
    public Parameter Weight => weight;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        NativeConvolutions.ShapeObserver?.Invoke(this, input.shape);
        return NativeConvolutions.Enabled
            ? NativeConvolutions.Conv2d(input, EffectiveWeight(), bias, Stride, Padding)
            : ExactConv2d.Apply(input, EffectiveWeight(), bias, Stride, Padding);
    }

    /// <summary>The weight the convolution uses: W, or W / σ(W) with spectral normalization (advancing its power
    /// iteration in training mode).</summary>
    public Tensor EffectiveWeight() => weight_u is null ? weight : SpectralNorm.Apply(weight, weight_u, training);
}
