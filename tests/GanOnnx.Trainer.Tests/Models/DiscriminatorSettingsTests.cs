using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests.Models;

/// <summary>The discriminator's own width and dropout (<see cref="ModelConfig.DiscriminatorWidth"/>, <c>--d-width</c>;
/// <see cref="ModelConfig.DiscriminatorDropout"/>, <c>--d-dropout</c>).</summary>
public class DiscriminatorSettingsTests
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
    public void ARunWithoutDropoutResumesExactlyAndAResumeMayChangeTheDropoutSayingSo()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, DiscriminatorDropout = 0 };
        using var data = TestData.Dataset(40, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 4, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0 };
        var (straight, halfway) = TestData.AssertResumeIsExact(model, data, options);

        // Dropout has no weights: a resume may switch it (as it may change the learning rates), says so, trains with the
        // new value and records it in the checkpoints it writes.
        var log = new StringWriter();
        var withDropout = new GanTrainer(model with { DiscriminatorDropout = null }, options, TestData.NewTempFolder(), log).Train(data, halfway);
        Assert.That(log.ToString(), Does.Contain("Resuming with changed training settings: ModelConfig.DiscriminatorDropout 0 → 0.3."));
        Assert.That(TestData.DiscriminatorWeights(withDropout), Is.Not.EqualTo(TestData.DiscriminatorWeights(straight)), "dropout 0.3 changed the last two steps");
        Assert.That(Checkpoint.Load(withDropout).Info.Model.EffectiveDiscriminatorDropout, Is.EqualTo(0.3));

        var quiet = new StringWriter();
        new GanTrainer(model with { DiscriminatorDropout = null }, options with { Steps = 5 }, TestData.NewTempFolder(), quiet).Train(data, withDropout);
        Assert.That(quiet.ToString(), Does.Not.Contain("changed training settings"), "the checkpoint's dropout is now 0.3");
    }

    [Test]
    public void TheDefaultsGivenExplicitlyResumeARunThatLeftThemUnset()
    {
        // Checkpoints written before the settings existed have no values for them; they mean the generator's width and the
        // architecture's dropout.
        var model = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 8, LatentDim = 8 };
        using var data = TestData.Dataset(32, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Steps = 1, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0 };
        var first = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var explicitly = model with { DiscriminatorDropout = 0, DiscriminatorWidth = 8 };
        var second = new GanTrainer(explicitly, options with { Steps = 2 }, TestData.NewTempFolder(), TextWriter.Null).Train(data, first);
        Assert.That(TestData.DiscriminatorWeights(second).All(float.IsFinite), Is.True);
    }

    [TestCase(GanArchitecture.Dcgan, new long[] { 16, 32 })]
    [TestCase(GanArchitecture.KerasDcgan, new long[] { 16, 32, 64, 128 })]
    [TestCase(GanArchitecture.Mlp, new long[] { 16 })]
    public void AWiderDiscriminatorLeavesTheGeneratorAsItIs(GanArchitecture architecture, long[] hidden)
    {
        var model = new ModelConfig { Architecture = architecture, Width = 8, LatentDim = 8 };
        var wide = model with { DiscriminatorWidth = 16 };
        using var d = new Discriminator(wide);
        // The output sizes of the discriminator's weight layers, the last one (1 logit) aside.
        var sizes = d.named_parameters().Where(p => p.name.EndsWith("weight")).Select(p => p.parameter.shape[0]).ToArray();
        Assert.That(sizes[..^1], Is.EqualTo(hidden));
        Assert.That(sizes[^1], Is.EqualTo(1));
        using var g = new GanOnnx.Trainer.Models.Generator(model);
        using var same = new GanOnnx.Trainer.Models.Generator(wide);
        Assert.That(same.parameters().Sum(p => p.numel()), Is.EqualTo(g.parameters().Sum(p => p.numel())));
        Assert.That(wide.DiscriminatorNotes, Does.Contain("discriminator width 16"));
        using var images = rand(2, model.Channels, model.ImageSize, model.ImageSize);
        using var logits = d.forward(images);
        Assert.That(logits.shape, Is.EqualTo(new long[] { 2 }));
    }

    [Test]
    public void AResumeMustKeepTheDiscriminatorsWidth()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 8, LatentDim = 8, DiscriminatorWidth = 16 };
        using var data = TestData.Dataset(32, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Steps = 1, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0 };
        var first = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var resumed = new GanTrainer(model with { DiscriminatorWidth = 0 }, options with { Steps = 2 }, TestData.NewTempFolder(), TextWriter.Null);
        Assert.That(() => resumed.Train(data, first), Throws.TypeOf<TrainerException>()
            .With.Message.Contains("discriminator width 16 in the checkpoint, discriminator width 8 here"));
    }

    [TestCase("--d-dropout 1", "--d-dropout is 1")]
    [TestCase("--d-dropout -0.1", "--d-dropout is -0.1")]
    [TestCase("--d-dropout NaN", "--d-dropout is NaN")]
    [TestCase("--d-width -1", "--d-width is -1")]
    public void ABadDiscriminatorSettingIsRefusedByName(string options, string named)
    {
        Assert.That(TestData.RefusedTraining(options), Does.Contain(named));
    }
}
