using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;

namespace GanOnnx.Trainer.Tests;

/// <summary>The EMA's ramp-up, and optimizer settings given anew when a run is resumed.</summary>
public class EmaAndResumeSettingsTests
{
    private static float[] Weights(string checkpointPath, string section = "generator") => TestData.GeneratorWeights(checkpointPath, section);

    private static double MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();

    [Test]
    public void TheRampedDecayHasAHalfLifeOfAtMostTheRampUpTimesTheSteps()
    {
        // Half-life of 0.999: ln 0.5 / ln 0.999 = 692.8 steps; r = 0.05 caps it at 0.05·step.
        Assert.That(GanTrainer.EmaDecayAt(0.999, 0.05, 100), Is.EqualTo(Math.Pow(0.5, 1 / 5.0)).Within(1e-12));
        Assert.That(GanTrainer.EmaDecayAt(0.999, 0.05, 10_000), Is.EqualTo(Math.Pow(0.5, 1 / 500.0)).Within(1e-12));
        Assert.That(GanTrainer.EmaDecayAt(0.999, 0.05, 13_900), Is.EqualTo(0.999), "past 692.8 / 0.05 = 13,856 steps the decay is the one asked for");
        Assert.That(GanTrainer.EmaDecayAt(0.999, 0.05, 1_000_000), Is.EqualTo(0.999));
        Assert.That(GanTrainer.EmaDecayAt(0.999, 0, 1), Is.EqualTo(0.999), "ramp-up 0 is off");
        Assert.That(GanTrainer.EmaDecayAt(0, 0.05, 10), Is.EqualTo(0), "decay 0 copies the generator");
        var previous = 0.0;
        for (var step = 1; step <= 20_000; step += 37)
        {
            var decay = GanTrainer.EmaDecayAt(0.999, 0.05, step);
            Assert.That(decay, Is.GreaterThanOrEqualTo(previous).And.LessThanOrEqualTo(0.999), $"step {step}");
            previous = decay;
        }
    }

    [Test]
    public void WithRampUpTheEmaOfAShortRunFollowsTheGeneratorInsteadOfItsStartingWeights()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 8, LatentDim = 8 };
        using var data = TestData.Dataset(32, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 5, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0 };
        var ramped = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var fixedDecay = new GanTrainer(model, options with { EmaRampup = 0 }, TestData.NewTempFolder(), TextWriter.Null).Train(data);

        Assert.That(Weights(ramped), Is.EqualTo(Weights(fixedDecay)), "the EMA does not touch training");
        var rampedGap = MaxDifference(Weights(ramped), Weights(ramped, "generator_ema"));
        var fixedGap = MaxDifference(Weights(fixedDecay), Weights(fixedDecay, "generator_ema"));
        Assert.That(fixedGap, Is.GreaterThan(1e-4), "without ramp-up, 5 steps at decay 0.999 leave the EMA near the initial weights");
        Assert.That(rampedGap, Is.LessThan(fixedGap / 20));
    }

    [Test]
    public void ResumingAnotherModelSaysWhatDiffers()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 8, LatentDim = 8 };
        using var data = TestData.Dataset(32, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Steps = 1, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0 };
        var folder = TestData.NewTempFolder();
        var path = new GanTrainer(model, options, folder, TextWriter.Null).Train(data);
        var resumed = new GanTrainer(model with { SpectralNorm = true, Width = 16 }, options with { Steps = 2 }, folder, TextWriter.Null);
        Assert.That(() => resumed.Train(data, path), Throws.TypeOf<TrainerException>()
            .With.Message.Contains("width 8 in the checkpoint, width 16 here").And.Message.Contains("spectral norm off in the checkpoint, spectral norm on here")
            .And.Message.Not.Contains("architecture mlp"));
    }

    [Test]
    public void ABadRampUpIsRefused()
    {
        Assert.That(() => new TrainingOptions { EmaRampup = -0.1 }.Validate(), Throws.TypeOf<TrainerException>().With.Message.Contains("TrainingOptions.EmaRampup"));
        Assert.That(() => new TrainingOptions { EmaRampup = double.NaN }.Validate(), Throws.TypeOf<TrainerException>().With.Message.Contains("TrainingOptions.EmaRampup"));
    }

    [Test]
    public void AResumedRunTrainsWithTheLearningRateItIsGivenNotTheCheckpointsOne()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 8, LatentDim = 8 };
        using var data = TestData.Dataset(32, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 6, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0 };
        var halfway = new GanTrainer(model, options with { Steps = 3 }, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var straight = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var log = new StringWriter();
        var slowed = new GanTrainer(model, options with { LearningRateG = 1e-9, Beta1 = 0.0, R1Weight = 1, EmaDecay = 0.99, Augment = Augmentations.Translation | Augmentations.Cutout, BatchSize = 4 }, TestData.NewTempFolder(), log).Train(data, resumeFrom: halfway);

        Assert.That(MaxDifference(Weights(straight), Weights(halfway)), Is.GreaterThan(1e-4), "at 2e-4 three more steps move the generator");
        Assert.That(MaxDifference(Weights(slowed), Weights(halfway)), Is.LessThan(1e-6), "at 1e-9 they barely do");
        Assert.That(MaxDifference(TestData.DiscriminatorWeights(slowed), TestData.DiscriminatorWeights(halfway)), Is.GreaterThan(1e-4), "the discriminator keeps 2e-4");
        Assert.That(log.ToString(), Does.Contain("changed training settings").And.Contain("TrainingOptions.LearningRateG 0.0002 → 1E-09").And.Contain("TrainingOptions.Beta1 0.5 → 0").And.Contain("TrainingOptions.R1Weight 0 → 1")
            .And.Contain("TrainingOptions.EmaDecay 0.999 → 0.99").And.Contain("TrainingOptions.Augment none → translation,cutout").And.Contain("TrainingOptions.BatchSize 8 → 4"));
        var again = new StringWriter();
        new GanTrainer(model, options with { Steps = 9, LearningRateG = 1e-9, Beta1 = 0.0, R1Weight = 1, EmaDecay = 0.99, Augment = Augmentations.Translation | Augmentations.Cutout, BatchSize = 4 }, TestData.NewTempFolder(), again).Train(data, resumeFrom: slowed);
        Assert.That(again.ToString(), Does.Not.Contain("changed training settings"), "the checkpoints written after the change record the new settings");
    }

    [Test]
    public void TheLearningRatesAreScaledOnlyAfterTheDecayStep()
    {
        var options = new TrainingOptions { LearningRateDecayAt = 100, LearningRateDecay = 0.25 };
        Assert.That(options.LearningRateScaleAt(1), Is.EqualTo(1));
        Assert.That(options.LearningRateScaleAt(100), Is.EqualTo(1), "step 100 itself still trains at the base rates");
        Assert.That(options.LearningRateScaleAt(101), Is.EqualTo(0.25));
        Assert.That(options.LearningRateScaleAt(1_000_000), Is.EqualTo(0.25));
        Assert.That(new TrainingOptions().LearningRateScaleAt(1_000_000), Is.EqualTo(1), "off by default");
    }

    [Test]
    public void ADecayedRunEndsWhereARunResumedWithTheDecayedRatesEnds()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 8, LatentDim = 8 };
        using var data = TestData.Dataset(32, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 6, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0 };
        var log = new StringWriter();
        var decayed = new GanTrainer(model, options with { LearningRateDecayAt = 3, LearningRateDecay = 0.1 }, TestData.NewTempFolder(), log).Train(data);
        var halfway = new GanTrainer(model, options with { Steps = 3 }, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var resumed = new GanTrainer(model, options with { LearningRateG = 2e-5, LearningRateD = 2e-5 }, TestData.NewTempFolder(), TextWriter.Null).Train(data, resumeFrom: halfway);
        var straight = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);

        Assert.That(Weights(decayed), Is.EqualTo(Weights(resumed)), "generator, bit for bit");
        Assert.That(TestData.DiscriminatorWeights(decayed), Is.EqualTo(TestData.DiscriminatorWeights(resumed)), "discriminator, bit for bit");
        Assert.That(MaxDifference(Weights(decayed), Weights(straight)), Is.GreaterThan(1e-5), "the decay changes the last three steps");
        Assert.That(log.ToString(), Does.Contain("From step 4: learning rates × 0.1 (G 2E-05, D 2E-05)"));
    }

    [Test]
    public void AResumedDecayedRunKeepsTheDecayedRates()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 8, LatentDim = 8 };
        using var data = TestData.Dataset(32, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 6, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0, LearningRateDecayAt = 2, LearningRateDecay = 0.1 };
        var straight = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var halfway = new GanTrainer(model, options with { Steps = 4 }, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var resumed = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data, resumeFrom: halfway);

        Assert.That(Weights(resumed), Is.EqualTo(Weights(straight)));
        Assert.That(TestData.DiscriminatorWeights(resumed), Is.EqualTo(TestData.DiscriminatorWeights(straight)));
    }

    [TestCase("--lr-decay-at -1", "--lr-decay-at")]
    [TestCase("--lr-decay 0", "--lr-decay")]
    [TestCase("--lr-decay 1.5", "--lr-decay")]
    [TestCase("--r1 -1", "--r1 is -1")]
    [TestCase("--r1 1 --r1-every 0", "--r1-every is 0")]
    public void ABadDecayOrPenaltyIsRefusedByName(string options, string named)
    {
        Assert.That(TestData.RefusedTraining(options), Does.Contain(named));
    }
}
