using GanOnnx.Trainer.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests.Models;

public class StrideOneConvTranspose2dTests
{
    [TestCase(1, 2)]
    [TestCase(3, 1)]
    [TestCase(3, 4)]
    [TestCase(16, 3)]
    public void ItComputesExactlyWhatAFloat64TransposedConvolutionComputes(int inChannels, int outChannels)
    {
        manual_seed(1);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var layer = new StrideOneConvTranspose2d(inChannels, outChannels, 5, padding: 2);
        var x = randn(7, inChannels, 14, 14);
        var y = layer.forward(x);
        var reference = nn.functional.conv_transpose2d(x.to_type(ScalarType.Float64), layer.Weight.to_type(ScalarType.Float64),
            layer.Bias.to_type(ScalarType.Float64), strides: [1, 1], padding: [2, 2]);
        Assert.That(y.shape, Is.EqualTo(new long[] { 7, outChannels, 14, 14 }));
        Assert.That((y.to_type(ScalarType.Float64) - reference).abs().max().item<double>(), Is.LessThan(1e-5));
        Assert.That((layer.forward(x) - y).abs().max().item<float>(), Is.Zero, "the same input gives the same output");
    }

    [Test]
    public void ItKeepsTheParameterNamesAndShapesOfConvTranspose2d()
    {
        using var layer = new StrideOneConvTranspose2d(8, 4, 5, padding: 2);
        var names = layer.named_parameters().Select(p => (p.name, p.parameter.shape)).ToArray();
        Assert.That(names, Is.EqualTo(new[] { ("weight", new long[] { 8, 4, 5, 5 }), ("bias", new long[] { 4 }) }));
    }
}
