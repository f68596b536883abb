using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests.Models;

public class SpectralNormTests
{
    private static double LargestSingularValue(Tensor weight)
    {
        using var scope = NewDisposeScope();
        return linalg.svdvals(weight.detach().view(weight.shape[0], -1).to_type(ScalarType.Float64))[0].item<double>();
    }

    [Test]
    public void TrainingPassesDriveTheLargestSingularValueOfTheWeightsToOne()
    {
        manual_seed(4);
        using var conv = new VerifiedConv2d(3, 8, 4, stride: 2, padding: 1, spectralNorm: true);
        using var plain = new VerifiedConv2d(3, 8, 4, stride: 2, padding: 1);
        using var linear = new SpectralLinear(48, 5);
        conv.train();
        linear.train();
        using (no_grad())
        {
            for (var i = 0; i < 30; i++)
            {
                using var a = conv.EffectiveWeight();
                using var b = linear.NormalizedWeight();
            }
        }
        using var normalizedConv = conv.EffectiveWeight();
        using var normalizedLinear = linear.NormalizedWeight();
        Assert.That(LargestSingularValue(normalizedConv), Is.EqualTo(1).Within(1e-3));
        Assert.That(LargestSingularValue(normalizedLinear), Is.EqualTo(1).Within(1e-3));
        // The control: the same layer without normalization uses its raw weight.
        using var raw = plain.EffectiveWeight();
        Assert.That(LargestSingularValue(raw), Is.Not.EqualTo(1).Within(0.05));
    }

    [Test]
    public void EvaluationPassesDoNotAdvanceThePowerIteration()
    {
        manual_seed(5);
        using var conv = new VerifiedConv2d(2, 4, 3, padding: 1, spectralNorm: true);
        conv.eval();
        using var first = conv.EffectiveWeight().detach().clone();
        using var second = conv.EffectiveWeight().detach();
        Assert.That(second.data<float>().ToArray(), Is.EqualTo(first.data<float>().ToArray()));
        conv.train();
        using var third = conv.EffectiveWeight().detach();
        Assert.That(third.data<float>().ToArray(), Is.Not.EqualTo(first.data<float>().ToArray()));
    }

    [Test]
    public void TheGradientSeesTheNormalization()
    {
        // The gradient of ‖x (W/σ(W))ᵀ‖² against central finite differences.
        manual_seed(6);
        using var linear = new SpectralLinear(6, 4);
        linear.eval();
        using var x = randn(3, 6);
        var weight = linear.parameters().First();
        using var loss = linear.forward(x).square().sum();
        loss.backward();
        var analytic = weight.grad!.data<float>().ToArray();
        var numeric = new double[analytic.Length];
        const float h = 1e-2f;
        using (no_grad())
        {
            var flat = weight.view(-1);
            for (var i = 0; i < numeric.Length; i++)
            {
                var original = flat[i].item<float>();
                flat[i] = original + h;
                var plus = linear.forward(x).square().sum().item<float>();
                flat[i] = original - h;
                var minus = linear.forward(x).square().sum().item<float>();
                flat[i] = original;
                numeric[i] = (plus - minus) / (2 * h);
            }
        }
        // In eval mode u is fixed and v = Wᵀu/‖Wᵀu‖ follows W, so σ(W) = ‖Wᵀu‖ and its true gradient is u vᵀ: exactly the
        // gradient of uᵀWv with u and v held constant. So the gradient must match finite differences.
        for (var i = 0; i < numeric.Length; i++)
            Assert.That(analytic[i], Is.EqualTo(numeric[i]).Within(0.01 * Math.Max(1, Math.Abs(numeric[i]))), $"element {i}");
    }

    [Test]
    public void ADiscriminatorWithSpectralNormTrainsAndResumesExactly()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, SpectralNorm = true };
        using var data = TestData.Dataset(40, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 6, BatchSize = 16, SampleEvery = 0, CheckpointEvery = 0, Loss = LossKind.Hinge };

        var straight = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var halfway = new GanTrainer(model, options with { Steps = 3 }, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var resumed = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data, resumeFrom: halfway);

        float[] Discriminator(string path)
        {
            var checkpoint = Checkpoint.Load(path);
            using var d = new Discriminator(model);
            checkpoint.LoadInto(d, "discriminator", path);
            var state = d.state_dict();
            Assert.That(state.Keys.Count(k => k.EndsWith("weight_u")), Is.EqualTo(3), "two convolutions and the last linear layer keep a power-iteration vector");
            return state.Values.SelectMany(t => t.detach().contiguous().data<float>().ToArray()).ToArray();
        }

        var expected = Discriminator(straight);
        Assert.That(expected.All(float.IsFinite), Is.True);
        Assert.That(Discriminator(resumed), Is.EqualTo(expected));
    }
}
