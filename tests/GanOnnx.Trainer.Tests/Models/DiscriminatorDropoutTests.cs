using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests.Models;

/// <summary>The discriminator's dropout (<see cref="ModelConfig.DiscriminatorDropout"/>, <c>--d-dropout</c>).</summary>
public class DiscriminatorDropoutTests
{
    private static int DropoutLayers(Discriminator d) => d.modules().Count(m => m is TorchSharp.Modules.Dropout);

    /// <summary>Two forward passes of the same images in training mode: equal when nothing in it is random.</summary>
    private static bool TrainingPassesAgree(ModelConfig model)
    {
        manual_seed(3);
        using var d = new Discriminator(model);
        d.train();
        using var images = rand(4, model.Channels, model.ImageSize, model.ImageSize);
        using var first = d.forward(images).detach();
        using var second = d.forward(images).detach();
        return first.data<float>().ToArray().SequenceEqual(second.data<float>().ToArray());
    }

    [TestCase(GanArchitecture.Dcgan, 0.3, 2)]
    [TestCase(GanArchitecture.KerasDcgan, 0.4, 4)]
    [TestCase(GanArchitecture.Mlp, 0.0, 0)]
    public void EachArchitectureKeepsItsWriteUpsDropoutByDefault(GanArchitecture architecture, double expected, int layers)
    {
        var model = new ModelConfig { Architecture = architecture, Width = 8, LatentDim = 8 };
        Assert.That(model.EffectiveDiscriminatorDropout, Is.EqualTo(expected));
        Assert.That(model.DiscriminatorNotes, Does.Not.Contain("dropout"), "the default is not worth a note in the log");
        using var d = new Discriminator(model);
        Assert.That(DropoutLayers(d), Is.EqualTo(layers));
        Assert.That(TrainingPassesAgree(model), Is.EqualTo(layers == 0));
    }

    [TestCase(GanArchitecture.Dcgan)]
    [TestCase(GanArchitecture.KerasDcgan)]
    public void DropoutZeroLeavesTheLayersOutAndTheWeightsAlone(GanArchitecture architecture)
    {
        var plain = new ModelConfig { Architecture = architecture, Width = 8, LatentDim = 8 };
        var strong = plain with { DiscriminatorDropout = 0 };
        using var withDropout = new Discriminator(plain);
        using var without = new Discriminator(strong);
        Assert.That(DropoutLayers(without), Is.EqualTo(0));
        Assert.That(TrainingPassesAgree(strong), Is.True, "without dropout a training pass is deterministic");
        Assert.That(without.state_dict().Keys, Is.EquivalentTo(withDropout.state_dict().Keys), "dropout has no weights: the same checkpoint layout");
        Assert.That(strong.DiscriminatorNotes, Does.Contain("discriminator dropout 0"));
    }

    [Test]
    public void AnMlpDiscriminatorCanBeGivenDropout()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 8, LatentDim = 8, DiscriminatorDropout = 0.5 };
        using var d = new Discriminator(model);
        Assert.That(DropoutLayers(d), Is.EqualTo(1));
        Assert.That(TrainingPassesAgree(model), Is.False);
    }

    [Test]
    public void ARunWithoutDropoutResumesExactlyAndAResumeMustKeepTheDropout()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, DiscriminatorDropout = 0 };
        using var data = TestData.Dataset(40, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 4, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0 };
        var (_, halfway) = TestData.AssertResumeIsExact(model, data, options);

        var resumed = new GanTrainer(model with { DiscriminatorDropout = null }, options, TestData.NewTempFolder(), TextWriter.Null);
        Assert.That(() => resumed.Train(data, halfway), Throws.TypeOf<TrainerException>()
            .With.Message.Contains("discriminator dropout 0 in the checkpoint, discriminator dropout 0.3 here"));
    }

    [Test]
    public void TheArchitecturesDropoutGivenExplicitlyResumesARunThatLeftItUnset()
    {
        // Checkpoints written before the setting existed have no value for it; they mean the architecture's dropout.
        var model = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 8, LatentDim = 8 };
        using var data = TestData.Dataset(32, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Steps = 1, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0 };
        var first = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var second = new GanTrainer(model with { DiscriminatorDropout = 0 }, options with { Steps = 2 }, TestData.NewTempFolder(), TextWriter.Null).Train(data, first);
        Assert.That(TestData.DiscriminatorWeights(second).All(float.IsFinite), Is.True);
    }

    [TestCase("--d-dropout 1", "--d-dropout is 1")]
    [TestCase("--d-dropout -0.1", "--d-dropout is -0.1")]
    [TestCase("--d-dropout NaN", "--d-dropout is NaN")]
    public void ABadDropoutIsRefusedByName(string options, string named)
    {
        Assert.That(TestData.RefusedTraining(options), Does.Contain(named));
    }
}
