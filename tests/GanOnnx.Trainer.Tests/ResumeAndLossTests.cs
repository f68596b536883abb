using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests;

public class ResumeAndLossTests
{
    private static float[] Weights(string checkpointPath, string section = "generator") => TestData.GeneratorWeights(checkpointPath, section);

    [TestCase(LossKind.Bce, false)]
    [TestCase(LossKind.WganGp, false)]
    [TestCase(LossKind.Hinge, true)]  // self-conditioned: the clusters come back from the checkpoint
    [TestCase(LossKind.WganGp, true)]
    public void AResumedRunEndsExactlyWhereAnUninterruptedRunEnds(LossKind loss, bool clustered)
    {
        var model = clustered
            ? new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, LatentClasses = 4, Clustered = true }
            : new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, NumClasses = 10 };
        using var data = TestData.Dataset(40, 28, 1, model.ValueRange); // 40 images, batch 16: epochs turn over mid-run
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 6, BatchSize = 16, SampleEvery = 0, CheckpointEvery = 0, Loss = loss, CriticSteps = loss == LossKind.WganGp ? 2 : 1 };

        var straight = TestData.NewTempFolder();
        var straightPath = new GanTrainer(model, options, straight, TextWriter.Null).Train(data);

        var interrupted = TestData.NewTempFolder();
        var halfway = new GanTrainer(model, options with { Steps = 3 }, interrupted, TextWriter.Null).Train(data);
        var resumedFolder = TestData.NewTempFolder();
        var resumedPath = new GanTrainer(model, options, resumedFolder, TextWriter.Null).Train(data, resumeFrom: halfway);

        Assert.That(Weights(resumedPath), Is.EqualTo(Weights(straightPath)), "generator");
        Assert.That(Weights(resumedPath, "generator_ema"), Is.EqualTo(Weights(straightPath, "generator_ema")), "EMA");
        Assert.That(Checkpoint.Load(resumedPath).Info.Step, Is.EqualTo(6));
    }

    [Test]
    public void AMismatchedCheckpointIsRefusedWithTheReason()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 8, LatentDim = 8 };
        using var data = TestData.Dataset(32, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Steps = 2, BatchSize = 8, SampleEvery = 0 };
        var path = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);

        Assert.That(() => new GanTrainer(model with { LatentDim = 9 }, options with { Steps = 4 }, TestData.NewTempFolder(), TextWriter.Null).Train(data, path),
            Throws.TypeOf<TrainerException>().With.Message.Contains("latent 8").And.Message.Contains("latent 9"));
        Assert.That(() => new GanTrainer(model, options with { Steps = 4, Seed = 99 }, TestData.NewTempFolder(), TextWriter.Null).Train(data, path),
            Throws.TypeOf<TrainerException>().With.Message.Contains("seed"));
        Assert.That(() => new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data, path),
            Throws.TypeOf<TrainerException>().With.Message.Contains("more TrainingOptions.Steps"));
        using var other = TestData.Dataset(24, 28, 1, model.ValueRange);
        Assert.That(() => new GanTrainer(model, options with { Steps = 4 }, TestData.NewTempFolder(), TextWriter.Null).Train(other, path),
            Throws.TypeOf<TrainerException>().With.Message.Contains("24"));
    }

    [TestCase(LossKind.Bce)]
    [TestCase(LossKind.WganGp)]
    [TestCase(LossKind.Hinge)]
    public void EveryLossTrainsWithFiniteValues(LossKind loss)
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 16 };
        using var data = TestData.Dataset(64, 28, 1, model.ValueRange);
        var folder = TestData.NewTempFolder();
        new GanTrainer(model, new TrainingOptions { Steps = 3, BatchSize = 16, Loss = loss, CriticSteps = 2, LogEvery = 1, SampleEvery = 0 }, folder, TextWriter.Null).Train(data);
        var lines = File.ReadAllLines(Path.Combine(folder, "metrics.jsonl")).Select(l => System.Text.Json.JsonSerializer.Deserialize<StepMetrics>(l)!).ToList();
        Assert.That(lines, Has.Count.EqualTo(3));
        Assert.That(lines.All(l => float.IsFinite(l.LossD) && float.IsFinite(l.LossG)), Is.True);
        Assert.That(Checkpoint.Load(Path.Combine(folder, "checkpoint.gockpt")).Info.Loss, Is.EqualTo(GanLoss.NameOf(loss)));
    }

    [Test]
    public void TheLossFormulasMatchTheirDefinitions()
    {
        using var scope = NewDisposeScope();
        var real = tensor(new float[] { 2f, -1f });
        var fake = tensor(new float[] { 0.5f, -3f });
        Assert.That(GanLoss.Discriminator(LossKind.WganGp, real, fake, 1).item<float>(), Is.EqualTo((0.5f - 3f) / 2 - (2f - 1f) / 2).Within(1e-6));
        // hinge: mean(relu(1 - real)) + mean(relu(1 + fake)) = (0 + 2)/2 + (1.5 + 0)/2
        Assert.That(GanLoss.Discriminator(LossKind.Hinge, real, fake, 1).item<float>(), Is.EqualTo(1f + 0.75f).Within(1e-6));
        Assert.That(GanLoss.Generator(LossKind.Hinge, fake).item<float>(), Is.EqualTo(1.25f).Within(1e-6));
        // BCE non-saturating generator loss: mean(softplus(-fake))
        var expected = (Math.Log(1 + Math.Exp(-0.5)) + Math.Log(1 + Math.Exp(3))) / 2;
        Assert.That(GanLoss.Generator(LossKind.Bce, fake).item<float>(), Is.EqualTo(expected).Within(1e-5));
    }

    /// <summary>
    /// An MLP critic on 4×4 images made linear, D(x) = Σᵢ w·xᵢ for positive x (its hidden layer has one unit, fc2's weight
    /// is 1 and LeakyReLU is the identity there), so ‖∇ₓD‖ = 4w everywhere; fc1 is the layer that holds w.
    /// </summary>
    private static (Discriminator Critic, TorchSharp.Modules.Linear Fc1) LinearCritic(float w)
    {
        var critic = new Discriminator(new ModelConfig { Architecture = GanArchitecture.Mlp, ImageSize = 4, Width = 1, LatentDim = 2 });
        var layers = critic.named_modules().ToDictionary(m => m.name, m => m.module);
        Assert.That(layers["body.act1"], Is.InstanceOf<TorchSharp.Modules.LeakyReLU>(), "the activation that is the identity for positive inputs");
        var fc1 = (TorchSharp.Modules.Linear)layers["body.fc1"];
        Assert.That(fc1.weight!.shape, Is.EqualTo(new long[] { 1, 16 }), "one hidden unit");
        using (no_grad())
        {
            fc1.weight.fill_(w);
            ((TorchSharp.Modules.Linear)layers["body.fc2"]).weight!.fill_(1f);
        }
        return (critic, fc1);
    }

    [Test]
    public void TheGradientPenaltyIsZeroForAUnitGradientCriticAndPositiveOtherwise()
    {
        using var scope = NewDisposeScope();
        var (critic, fc1) = LinearCritic(0.25f); // ‖∇ₓD‖ = 1
        using var _ = critic;
        var real = rand(8, 1, 4, 4) + 1; // positive pre-activations, so LeakyReLU is the identity
        var fake = rand(8, 1, 4, 4) + 1;
        Assert.That(GanLoss.GradientPenalty(critic, real, fake, null).item<float>(), Is.EqualTo(0f).Within(1e-6));
        using (no_grad()) fc1.weight!.fill_(0.5f); // ‖∇‖ = 2
        Assert.That(GanLoss.GradientPenalty(critic, real, fake, null).item<float>(), Is.EqualTo(1f).Within(1e-5));
    }

    [TestCase(GanArchitecture.Dcgan)]
    [TestCase(GanArchitecture.KerasDcgan)]
    public void TheGradientPenaltyOfAConvolutionalCriticHasFiniteGradients(GanArchitecture architecture)
    {
        // libtorch 2.10's float32 transposed-convolution kernel made these second derivatives NaN about one time in three.
        var model = new ModelConfig { Architecture = architecture, Width = 8, LatentDim = 16 };
        using var data = TestData.Dataset(64, 28, 1, model.ValueRange);
        manual_seed(1);
        using var critic = new Discriminator(model);
        for (var i = 0; i < 20; i++)
        {
            using var scope = NewDisposeScope();
            var penalty = GanLoss.GradientPenalty(critic, data.Images.narrow(0, 0, 16), model.ValueRange.Min + rand(16, 1, 28, 28), null);
            penalty.backward();
            Assert.That(critic.parameters().All(p => p.grad is null || !p.grad.isnan().any().item<bool>()), Is.True, $"iteration {i}");
            Assert.That(critic.parameters().Any(p => p.grad is not null && p.grad.abs().sum().item<float>() > 0), Is.True, "the penalty reaches the critic");
            critic.zero_grad();
        }
    }

    [Test]
    public void TheR1PenaltyIsTheRealScoresSquaredGradientNormAndTrainsTheCritic()
    {
        // ‖∇ₓD‖² = (4·0.5)² = 4 for every image, and ∂R1/∂w = 2w: the penalty reaches the weights only through the second
        // derivative.
        using var scope = NewDisposeScope();
        var (critic, fc1) = LinearCritic(0.5f);
        using var _ = critic;
        var real = (rand(8, 1, 4, 4) + 1).requires_grad_(true); // positive pre-activations: LeakyReLU is the identity
        var penalty = GanLoss.R1Penalty(critic.forward(real, null), real);
        Assert.That(penalty.item<float>(), Is.EqualTo(4f).Within(1e-5));
        penalty.backward();
        Assert.That(fc1.weight!.grad!.data<float>().ToArray(), Is.All.EqualTo(2 * 0.5f).Within(1e-5));
    }

    [Test]
    public void R1ChangesTheDiscriminatorOnlyOnItsLazyStepsAndResumesExactly()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, LatentClasses = 4, Clustered = true };
        using var data = TestData.Dataset(40, 28, 1, model.ValueRange);
        var plainAugmented = new TrainingOptions
        {
            Convolutions = ConvolutionKernels.Exact, Steps = 3, BatchSize = 16, SampleEvery = 0, CheckpointEvery = 0,
            Augment = Augmentations.Translation | Augmentations.Cutout,
        };
        var withR1 = plainAugmented with { R1Weight = 10, R1Every = 4 };
        float[] Discriminator(TrainingOptions options, TextWriter? log = null) =>
            TestData.DiscriminatorWeights(new GanTrainer(model, options, TestData.NewTempFolder(), log ?? TextWriter.Null).Train(data));

        // Steps 1–3 are not R1 steps (every 4th is): the run is the plain one, bit for bit.
        var log = new StringWriter();
        Assert.That(Discriminator(withR1, log), Is.EqualTo(Discriminator(plainAugmented)));
        Assert.That(log.ToString(), Does.Contain("R1 γ 10 every 4 step(s)"));
        // Step 4 is: the discriminator differs, and stays finite.
        var r1Weights = Discriminator(withR1 with { Steps = 4 });
        Assert.That(r1Weights.All(float.IsFinite), Is.True);
        Assert.That(r1Weights, Is.Not.EqualTo(Discriminator(plainAugmented with { Steps = 4 })));
        // Every step, across a resume.
        TestData.AssertResumeIsExact(model, data, withR1 with { Steps = 4, R1Every = 1 });
    }

    [Test]
    public void TheConsistencyPenaltyIsTheMeanSquaredScoreDifferenceAndTrainsBothSides()
    {
        using var scope = NewDisposeScope();
        var scores = tensor(new[] { 1f, 2f, -1f }).requires_grad_(true);
        var shifted = tensor(new[] { 0f, 4f, -1f }).requires_grad_(true);
        var penalty = GanLoss.Consistency(scores, shifted);
        Assert.That(penalty.item<float>(), Is.EqualTo((1f + 4f + 0f) / 3).Within(1e-6));
        penalty.backward();
        // ∂/∂s = 2(s − t)/n and ∂/∂t = −2(s − t)/n: both passes of the discriminator learn from it.
        Assert.That(scores.grad!.data<float>().ToArray(), Is.EqualTo(new[] { 2f / 3, -4f / 3, 0f }).Within(1e-6));
        Assert.That(shifted.grad!.data<float>().ToArray(), Is.EqualTo(new[] { -2f / 3, 4f / 3, 0f }).Within(1e-6));
    }

    [Test]
    public void ConsistencyTeachesTheDiscriminatorToScoreShiftedImagesAlikeAndResumesExactly()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, LatentClasses = 4, Clustered = true, DiscriminatorDropout = 0 };
        using var data = TestData.Dataset(64, 28, 1, model.ValueRange);
        var plain = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 30, BatchSize = 16, SampleEvery = 0, CheckpointEvery = 0, LearningRateD = 1e-3 };
        var log = new StringWriter();
        var withCr = new GanTrainer(model, plain with { ConsistencyWeight = 100 }, TestData.NewTempFolder(), log).Train(data);
        var without = new GanTrainer(model, plain, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        Assert.That(log.ToString(), Does.Contain("consistency λ 100"));

        // How differently each discriminator scores the training images and the same images shifted (one shift draw for both).
        double Gap(string checkpointPath)
        {
            var checkpoint = Checkpoint.Load(checkpointPath);
            using var d = new Discriminator(checkpoint.Info.Model);
            checkpoint.LoadInto(d, "discriminator", checkpointPath);
            d.eval();
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            manual_seed(7);
            var shifted = DiffAugment.Apply(data.Images, Augmentations.Translation);
            var clusters = zeros(data.Count, dtype: ScalarType.Int64);
            return (d.forward(data.Images, clusters) - d.forward(shifted, clusters)).abs().mean().item<float>();
        }
        var (gapWith, gapWithout) = (Gap(withCr), Gap(without));
        Assert.That(gapWith, Is.LessThan(gapWithout / 2), $"score gap under a shift: {gapWith:G4} with consistency, {gapWithout:G4} without");

        TestData.AssertResumeIsExact(model, data, plain with { Steps = 4, ConsistencyWeight = 10, Augment = Augmentations.Cutout });
    }

    [Test]
    public void AConsistencyWeightOutOfRangeIsRefused()
    {
        Assert.That(() => new TrainingOptions { ConsistencyWeight = -1 }.Validate(), Throws.TypeOf<TrainerException>().With.Message.Contains("TrainingOptions.ConsistencyWeight"));
        Assert.That(() => new TrainingOptions { ConsistencyWeight = double.NaN }.Validate(), Throws.TypeOf<TrainerException>().With.Message.Contains("TrainingOptions.ConsistencyWeight"));
    }
}
