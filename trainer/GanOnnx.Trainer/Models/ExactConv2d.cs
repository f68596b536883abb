using TorchSharp;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// A stride-1, dilation-1, single-group 2-D convolution whose backward pass is written as ordinary forward convolutions.
/// </summary>
/// <remarks>
/// libtorch 2.10's float32 CPU kernels for stride-1 transposed convolution — which its Conv2d backward uses for the input
/// gradient — return wrong values (up to 1.4 off from float64, measured) and sometimes NaN when the channel counts are
/// small. Its forward Conv2d is exact, so this function computes y = conv(x, W) + b and, for the gradients,
/// ∂x = conv(∂y, flip(W)ᵀ), ∂W = conv(xᵀ, ∂yᵀ)ᵀ and ∂b = Σ ∂y, all with forward convolutions.
/// </remarks>
internal sealed class ExactConv2d : autograd.SingleTensorFunction<ExactConv2d>
{
    public override string Name => nameof(ExactConv2d);

    /// <summary>y = conv2d(x, weight, bias, stride 1, padding) with exact gradients.</summary>
    public static Tensor Apply(Tensor input, Tensor weight, Tensor bias, long padding) => apply(input, weight, bias, padding);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var weight = (Tensor)vars[1];
        var bias = (Tensor)vars[2];
        var padding = (long)vars[3];
        ctx.save_for_backward([input, weight]);
        ctx.save_data("padding", padding);
        return nn.functional.conv2d(input, weight, bias, padding: [padding, padding]);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
    {
        var saved = ctx.get_saved_variables();
        var input = saved[0];
        var weight = saved[1];
        var padding = (long)ctx.get_data("padding");
        var k = weight.shape[2];
        using var scope = NewDisposeScope();

        // ∂L/∂x: correlate the output gradient with the flipped, transposed kernel.
        var gradInput = nn.functional.conv2d(grad, weight.flip(2, 3).transpose(0, 1), padding: [k - 1 - padding, k - 1 - padding]);

        // ∂L/∂W[o, i, a, b] = Σ_n,h,w ∂y[n, o, h, w] · x_padded[n, i, h + a, w + b]: a convolution over the batch axis.
        var padded = nn.functional.pad(input, [padding, padding, padding, padding]);
        var gradWeight = nn.functional.conv2d(padded.transpose(0, 1), grad.transpose(0, 1)).transpose(0, 1);
        if (gradWeight.shape[2] != k) gradWeight = gradWeight.narrow(2, 0, k).narrow(3, 0, k);

        var gradBias = grad.sum([0, 2, 3]);
        return [gradInput.MoveToOuterDisposeScope(), gradWeight.MoveToOuterDisposeScope(), gradBias.MoveToOuterDisposeScope(), null!];
    }
}
