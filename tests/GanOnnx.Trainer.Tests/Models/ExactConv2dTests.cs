using GanOnnx.Trainer.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests.Models;

public class ExactConv2dTests
{
    // Channel counts where libtorch 2.10's own float32 gradient is off by up to 1.4 (measured), and a wide one.
    [TestCase(1, 8)]
    [TestCase(8, 1)]
    [TestCase(3, 4)]
    [TestCase(32, 16)]
    public void ForwardAndAllGradientsMatchFloat64(int inChannels, int outChannels)
    {
        manual_seed(3);
        using var scope = NewDisposeScope();
        var w = (randn(outChannels, inChannels, 5, 5) * 0.1).requires_grad_(true);
        var b = randn(outChannels).requires_grad_(true);
        var x = randn(7, inChannels, 14, 14).requires_grad_(true);
        var upstream = randn(7, outChannels, 14, 14);
        var y = ExactConv2d.Apply(x, w, b, 2);
        (y * upstream).sum().backward();

        var x64 = x.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var w64 = w.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var b64 = b.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var y64 = nn.functional.conv2d(x64, w64, b64, padding: [2, 2]);
        (y64 * upstream.to_type(ScalarType.Float64)).sum().backward();

        static double Diff(Tensor a, Tensor b) => (a.to_type(ScalarType.Float64) - b).abs().max().item<double>();
        Assert.That(Diff(y, y64), Is.LessThan(1e-4), "output");
        Assert.That(Diff(x.grad!, x64.grad!), Is.LessThan(1e-4), "input gradient");
        Assert.That(Diff(w.grad!, w64.grad!), Is.LessThan(1e-3), "weight gradient");
        Assert.That(Diff(b.grad!, b64.grad!), Is.LessThan(1e-3), "bias gradient");
    }
}
