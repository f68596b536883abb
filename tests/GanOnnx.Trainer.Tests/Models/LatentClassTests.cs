using GanOnnx.Runtime;
using GanOnnx.Trainer.Models;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Tests.Models;

/// <summary>How a model with latent classes (an InfoGAN code or self-conditioning clusters) reads its class from the latent.</summary>
public class LatentClassTests
{
    [Test]
    public void TheClassIsHowManyThresholdsTheFirstLatentValueExceeds()
    {
        // Normal latents, prior ½, ¼, ¼: thresholds at the normal quantiles of 0.5 and 0.75 (0 and 0.6745).
        var config = new ModelConfig { LatentDim = 4, LatentClasses = 3, LatentClassPrior = [0.5, 0.25, 0.25] };
        Assert.That(config.LatentClassThresholds(), Is.EqualTo(new[] { 0f, 0.6744898f }).Within(1e-6f));
        using var z = tensor(new float[]
        {
            -1f, 9f, 9f, 9f, // only the first value counts
            0.5f, -9f, 0f, 0f,
            2f, 0f, 0f, 0f,
            0f, 0f, 0f, 0f, // on a threshold: not above it
        }, [4, 4]);
        using var code = Generator.LatentCode(config, z);
        Assert.That(code.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1, 2, 0 }));

        // Uniform latents in [-1, 1]: the thresholds are the prior's cumulative shares mapped onto [-1, 1].
        var keras = config with { Architecture = GanArchitecture.KerasDcgan, LatentDim = 4 };
        Assert.That(keras.LatentClassThresholds(), Is.EqualTo(new[] { 0f, 0.5f }).Within(1e-6f));
    }

    [TestCase(GanArchitecture.Dcgan, false)]      // normal latents
    [TestCase(GanArchitecture.KerasDcgan, false)] // uniform latents in [-1, 1]
    [TestCase(GanArchitecture.Dcgan, true)]
    [TestCase(GanArchitecture.KerasDcgan, true)]
    public void ClassesComeUpAsOftenAsThePriorSays(GanArchitecture architecture, bool skewed)
    {
        double[]? prior = skewed ? [0.05, 0.3, 0.1, 0.15, 0.4] : null;
        var config = new ModelConfig { Architecture = architecture, LatentClasses = 5, LatentClassPrior = prior };
        using var random = new TorchSharp.torch.Generator(7);
        using var z = Generator.SampleLatents(config, 50_000, CPU, random);
        using var code = Generator.LatentCode(config, z);
        using var counts = code.bincount(null, minlength: 5);
        var shares = counts.data<long>().Select(c => c / 50_000.0).ToArray();
        var expected = prior ?? [0.2, 0.2, 0.2, 0.2, 0.2];
        Assert.That(shares, Has.Length.EqualTo(5));
        for (var k = 0; k < 5; k++)
            Assert.That(shares[k], Is.EqualTo(expected[k]).Within(0.01), $"class {k}: {string.Join(" ", shares)}");
    }

    [TestCase(new[] { 0.5, 0.5 }, "has 2 values but the model has 3")]
    [TestCase(new[] { 0.5, 0.5, 0.0 }, "positive shares that sum to 1")]
    [TestCase(new[] { 0.5, 0.4, 0.2 }, "positive shares that sum to 1")]
    public void AnInvalidPriorIsRefused(double[] prior, string message)
    {
        var config = new ModelConfig { LatentClasses = 3, LatentClassPrior = prior };
        Assert.That(config.Validate, Throws.TypeOf<TrainerException>().With.Message.Contains(message));
    }
}
