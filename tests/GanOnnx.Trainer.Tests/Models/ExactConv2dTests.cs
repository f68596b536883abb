using GanOnnx.Trainer.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests.Models;

/// <summary>
/// The safe convolutions against libtorch's float64 kernels, for the shapes where libtorch 2.10's float32 transposed
/// kernel fails (few channels, stride 1 and 2) and for wide ones.
/// </summary>
public class ExactConv2dTests
{
    private static double Diff(Tensor a, Tensor b) => (a.to_type(ScalarType.Float64) - b).abs().max().item<double>();

    public static IEnumerable<TestCaseData> Shapes()
    {
        foreach (var (inC, outC) in new[] { (1, 3), (3, 1), (2, 8), (8, 3), (32, 16) })
            foreach (var (k, s, p) in new[] { (5, 1, 2), (4, 2, 1), (5, 2, 2), (3, 1, 1) })
                yield return new TestCaseData(inC, outC, k, s, p).SetName($"in{inC} out{outC} k{k} s{s} p{p}");
    }

    [TestCaseSource(nameof(Shapes))]
    public void VerifiedConv2dForwardAndGradientsMatchFloat64(int inC, int outC, int k, int s, int p)
    {
        manual_seed(3);
        using var scope = NewDisposeScope();
        using var layer = new VerifiedConv2d(inC, outC, k, s, p);
        var x = randn(5, inC, 14, 14).requires_grad_(true);
        var y = layer.forward(x);
        var upstream = randn_like(y);
        (y * upstream).sum().backward();

        var x64 = x.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var w64 = layer.Weight.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var b64 = layer.parameters().Last().detach().to_type(ScalarType.Float64).requires_grad_(true);
        var y64 = nn.functional.conv2d(x64, w64, b64, strides: [s, s], padding: [p, p]);
        (y64 * upstream.to_type(ScalarType.Float64)).sum().backward();

        Assert.That(Diff(y, y64), Is.LessThan(1e-4), "output");
        Assert.That(Diff(x.grad!, x64.grad!), Is.LessThan(1e-4), "input gradient");
        Assert.That(Diff(layer.Weight.grad!, w64.grad!), Is.LessThan(1e-3), "weight gradient");
        Assert.That(Diff(layer.parameters().Last().grad!, b64.grad!), Is.LessThan(1e-3), "bias gradient");
    }

    [TestCaseSource(nameof(Shapes))]
    public void VerifiedConvTranspose2dForwardAndGradientsMatchFloat64(int inC, int outC, int k, int s, int p)
    {
        manual_seed(4);
        using var scope = NewDisposeScope();
        var outputPadding = s > 1 ? 1 : 0;
        using var layer = new VerifiedConvTranspose2d(inC, outC, k, s, p, outputPadding);
        var x = randn(5, inC, 7, 7).requires_grad_(true);
        var y = layer.forward(x);
        var upstream = randn_like(y);
        (y * upstream).sum().backward();

        var x64 = x.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var w64 = layer.Weight.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var b64 = layer.Bias!.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var y64 = nn.functional.conv_transpose2d(x64, w64, b64, strides: [s, s], padding: [p, p], output_padding: [outputPadding, outputPadding]);
        (y64 * upstream.to_type(ScalarType.Float64)).sum().backward();

        Assert.That(y.shape, Is.EqualTo(y64.shape));
        Assert.That(Diff(y, y64), Is.LessThan(1e-4), "output");
        Assert.That(Diff(layer.forward(x), y64), Is.LessThan(1e-4), "the same output again");
        Assert.That(Diff(x.grad!, x64.grad!), Is.LessThan(1e-4), "input gradient");
        Assert.That(Diff(layer.Weight.grad!, w64.grad!), Is.LessThan(1e-3), "weight gradient");
        Assert.That(Diff(layer.Bias!.grad!, b64.grad!), Is.LessThan(1e-3), "bias gradient");
    }

    [Test]
    public void GradientsHandedToLibtorchFromAThreadWithoutADisposeScopeAreReleased()
    {
        // On a GPU, libtorch calls backward functions from its own device thread, where no dispose scope exists. Every
        // tensor wrapper made there used to live until the garbage collector finalized it, and with it the activations
        // it points at. Here CPU backward passes run on one thread without a scope, as GPU ones do: after the first
        // pass, each further pass must leave no more tensors alive than the one before.
        manual_seed(5);
        using var layer = new VerifiedConvTranspose2d(4, 2, 4, 2, 1, 0);
        using var scope = NewDisposeScope();
        var losses = Enumerable.Range(0, 3).Select(_ => layer.forward(randn(3, 4, 7, 7).requires_grad_(true)).square().sum()).ToList();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var alive = new List<long>();
        var thread = new Thread(() =>
        {
            foreach (var loss in losses)
            {
                loss.backward();
                alive.Add(Tensor.TotalCount);
            }
        });
        thread.Start();
        thread.Join();

        Assert.That(alive[1] - alive[0], Is.LessThanOrEqualTo(0), "the second pass releases what the first handed over");
        Assert.That(alive[2] - alive[1], Is.LessThanOrEqualTo(0), "and so on: no growth per step");
    }

    [Test]
    public void TheSafeLayersKeepTheParameterNamesAndShapesOfTheirLibtorchTwins()
    {
        using var t = new VerifiedConvTranspose2d(8, 4, 5, stride: 2, padding: 2, hasBias: false);
        Assert.That(t.named_parameters().Select(p => (p.name, p.parameter.shape)), Is.EqualTo(new[] { ("weight", new long[] { 8, 4, 5, 5 }) }));
        using var c = new VerifiedConv2d(3, 6, 4, stride: 2, padding: 1);
        Assert.That(c.named_parameters().Select(p => (p.name, p.parameter.shape)), Is.EqualTo(new[] { ("weight", new long[] { 6, 3, 4, 4 }), ("bias", new long[] { 6 }) }));
    }
}
