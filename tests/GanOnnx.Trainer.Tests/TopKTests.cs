using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests;

/// <summary>Top-k generator updates (<see cref="TrainingOptions.TopK"/>, <c>--top-k</c>; Sinha et al. 2020).</summary>
public class TopKTests
{
    [Test]
    public void KStartsAtTheBatchAndShrinksByOnePercentAnEpochDownToTheShare()
    {
        var options = new TrainingOptions { TopK = 0.5 };
        // 640 images: 10 steps an epoch.
        Assert.That(options.TopKAt(1, 64, 640), Is.EqualTo(64));
        Assert.That(options.TopKAt(10, 64, 640), Is.EqualTo(64), "the first epoch is steps 1–10");
        Assert.That(options.TopKAt(11, 64, 640), Is.EqualTo(63), "64 × 0.99 = 63.36");
        Assert.That(options.TopKAt(1 + 10 * 30, 64, 640), Is.EqualTo(47), "64 × 0.99^30 = 47.35");
        Assert.That(options.TopKAt(1 + 10 * 69, 64, 640), Is.EqualTo(32), "0.99^69 = 0.4998: the floor");
        Assert.That(options.TopKAt(1_000_000, 64, 640), Is.EqualTo(32));
        Assert.That((options with { TopK = 1 }).TopKAt(1_000_000, 64, 640), Is.EqualTo(64), "1 is off");
        Assert.That((options with { TopK = 0.001 }).TopKAt(1_000_000, 64, 640), Is.EqualTo(1), "at least one image");
        Assert.That(options.TopKAt(1_000_000, 16, 16), Is.EqualTo(8), "the batch a run trains with: all 16 images where it asked for 64");
    }

    [Test]
    public void OnlyTheKHighestScoredImagesGetAGradient()
    {
        using var scope = NewDisposeScope();
        var scores = tensor(new[] { 0.5f, -2f, 3f, 1f, -0.5f }).requires_grad_(true);
        var top = GanLoss.TopScores(scores, 2);
        Assert.That(top.data<float>().ToArray(), Is.EquivalentTo(new[] { 3f, 1f }));
        GanLoss.Generator(LossKind.Hinge, top).backward();
        // −mean over the two kept: −1/2 each; the other three nothing.
        Assert.That(scores.grad!.data<float>().ToArray(), Is.EqualTo(new[] { 0f, 0f, -0.5f, -0.5f, 0f }));
        Assert.That(GanLoss.TopScores(scores, 5).shape, Is.EqualTo(new long[] { 5 }), "k = the batch keeps all");
    }

    [Test]
    public void ARunChangesOnlyOnceKDropsBelowTheBatchAndResumesExactly()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, DiscriminatorDropout = 0 };
        using var data = TestData.Dataset(16, 28, 1, model.ValueRange);
        // Batch 64 asked of 16 images trains on all 16: one step an epoch, so k is 16 in steps 1–4 (16 × 0.99³ = 15.53)
        // and 15 from step 5 (counted on the batch asked for, k would never fall below 32 and all 16 images would count).
        var plain = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 4, BatchSize = 64, SampleEvery = 0, CheckpointEvery = 0 };
        var log = new StringWriter();
        var topK = plain with { TopK = 0.5 };
        var before = new GanTrainer(model, topK, TestData.NewTempFolder(), log).Train(data);
        Assert.That(log.ToString(), Does.Contain("top-k generator updates down to 0.5 of the batch"));
        Assert.That(TestData.GeneratorWeights(before).SequenceEqual(TestData.GeneratorWeights(new GanTrainer(model, plain, TestData.NewTempFolder(), TextWriter.Null).Train(data))),
            Is.True, "while k is the whole batch the run is the plain one");
        var after = new GanTrainer(model, topK with { Steps = 6 }, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var plainAfter = new GanTrainer(model, plain with { Steps = 6 }, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        Assert.That(TestData.GeneratorWeights(after).SequenceEqual(TestData.GeneratorWeights(plainAfter)), Is.False, "from step 5 the generator learns from 15 of 16 images");

        TestData.AssertResumeIsExact(model, data, topK with { Steps = 10 });
    }

    [Test]
    public void AShareOutsideTheBatchIsRefusedNamingTheOption()
    {
        foreach (var share in new[] { 0.0, -0.5, 1.5, double.NaN })
            Assert.That(() => new TrainingOptions { TopK = share }.Validate(), Throws.TypeOf<TrainerException>().With.Message.Contains("TrainingOptions.TopK"));
        Assert.That(TestData.RefusedTraining("--top-k 2"), Does.Contain("--top-k is 2; it must be a share of the batch in (0, 1]"));
    }
}
