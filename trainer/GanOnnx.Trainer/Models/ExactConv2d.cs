using TorchSharp;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// A 2-D convolution (any stride, dilation 1, one group) whose backward pass uses only forward convolutions.
/// </summary>
/// <remarks>
/// libtorch 2.10's float32 CPU transposed-convolution kernel — which its Conv2d backward uses for the input gradient and
/// its ConvTranspose2d uses forward — returns wrong values (measured up to 3.4 off from float64), NaN, and different
/// results for the same input when a channel count is small (≲ 8), at stride 1 and 2 alike. Its forward Conv2d is exact.
/// So y = conv(x, W, stride s, padding p) + b, and for the gradients
/// ∂x = conv(dilate(∂y, s), flip(W)ᵀ, padding k − 1 − p) (zero-filled to x's size),
/// ∂W from libtorch's weight-gradient kernel (exact), ∂b = Σ ∂y. Second derivatives flow through ∂x (WGAN-GP needs
/// those), not through ∂W.
/// </remarks>
internal sealed class ExactConv2d : autograd.SingleTensorFunction<ExactConv2d>
{
    // The gradients this thread's previous backward call returned to libtorch. libtorch copies them as soon as that call
    // returns, so their wrappers are disposed at the thread's next call. On a GPU, libtorch calls backward functions on
    // its own device thread, where no dispose scope exists: these wrappers used to live until the garbage collector
    // finalized them, and every step's activations stayed on the GPU (four runs sharing an 80 GB H100 ran out of memory
    // within about 500 steps; releasing them here, they held 4.7 GB together, flat). At most three per thread linger.
    [ThreadStatic] private static List<Tensor>? returnedByThisThread;

    public override string Name => nameof(ExactConv2d);

    /// <summary>y = conv2d(x, weight, bias, stride, padding) with exact gradients.</summary>
    public static Tensor Apply(Tensor input, Tensor weight, Tensor? bias, long stride, long padding) =>
        apply(input, weight, bias ?? zeros(weight.shape[0], dtype: weight.dtype, device: weight.device), stride, padding);

    /// <summary>
    /// Inserts s − 1 zeros between rows and columns, then pads with zeros: [N, C, H, W] →
    /// [N, C, top + (H − 1)s + 1 + bottom, left + (W − 1)s + 1 + right]. Differentiable (twice).
    /// </summary>
    /// <remarks>One zero-filled tensor of the final size and one strided copy into it, instead of padding a 6-D reshape,
    /// narrowing it and padding again (three buffers). Same values; the gain measured on the CPU was small, most of that
    /// time went to page faults on fresh buffers (see <c>Diagnostics.NativeAllocator</c>).</remarks>
    public static Tensor DilatePad(Tensor x, long s, long top, long bottom, long left, long right)
    {
        var (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var (dh, dw) = ((h - 1) * s + 1, (w - 1) * s + 1);
        var result = zeros([n, c, top + dh + bottom, left + dw + right], dtype: x.dtype, device: x.device);
        using (var window = result.slice(2, top, top + dh, s).slice(3, left, left + dw, s)) window.copy_(x);
        return result;
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var weight = (Tensor)vars[1];
        var bias = (Tensor)vars[2];
        var stride = (long)vars[3];
        var padding = (long)vars[4];
        ctx.save_for_backward([input, weight]);
        ctx.save_data("stride", stride);
        ctx.save_data("padding", padding);
        return nn.functional.conv2d(input, weight, bias, strides: [stride, stride], padding: [padding, padding]);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
    {
        // Everything made here is disposed on return, on whichever thread libtorch calls this from; so is the wrapper of
        // the incoming gradient (libtorch holds its own reference).
        if (returnedByThisThread is { } earlier)
        {
            foreach (var tensor in earlier) tensor.Dispose();
            earlier.Clear();
        }
        using var scope = NewDisposeScope();
        using var incoming = grad;
        var saved = ctx.get_saved_variables();
        var input = saved[0];
        var weight = saved[1];
        var stride = (long)ctx.get_data("stride");
        var padding = (long)ctx.get_data("padding");
        var k = weight.shape[2];
        var (h, w) = (input.shape[2], input.shape[3]);

        // ∂L/∂x: a stride-1 correlation of the dilated output gradient with the flipped, transposed kernel. The rows and
        // columns that (H + 2p − k) mod s leaves over at the bottom and right are the transposed convolution's output
        // padding: pad the dilated gradient by that much more there.
        var edge = k - 1 - padding;
        var extraH = h - ((grad.shape[2] - 1) * stride + 1 + 2 * edge - k + 1);
        var extraW = w - ((grad.shape[3] - 1) * stride + 1 + 2 * edge - k + 1);
        var dilated = DilatePad(grad, stride, edge, edge + extraH, edge, edge + extraW);
        // Through ExactConv2d again, so that a second derivative (WGAN-GP's gradient penalty) is exact too.
        var gradInput = Apply(dilated, weight.flip(2, 3).transpose(0, 1).contiguous(), null, 1, 0);

        // ∂L/∂W from libtorch's own weight-gradient kernel, which is exact (only the input-gradient path is not): a small
        // graph in which only the weights require a gradient, so libtorch computes nothing else.
        Tensor gradWeight;
        using (enable_grad())
        {
            var w2 = weight.detach().requires_grad_(true);
            var y2 = nn.functional.conv2d(input.detach(), w2, strides: [stride, stride], padding: [padding, padding]);
            gradWeight = autograd.grad([y2], [w2], [grad.detach()])[0];
        }

        var gradBias = grad.sum([0, 2, 3]);
        List<Tensor> result = [gradInput.MoveToOuterDisposeScope(), gradWeight.MoveToOuterDisposeScope(), gradBias.MoveToOuterDisposeScope()];
        (returnedByThisThread ??= []).AddRange(result);
        return [.. result, null!, null!];
    }
}
