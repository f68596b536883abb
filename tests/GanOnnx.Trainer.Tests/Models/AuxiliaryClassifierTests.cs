using System.Text.Json;
using GanOnnx.Runtime;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests.Models;

/// <summary>The auxiliary classifier (AC-GAN, <see cref="ModelConfig.AuxiliaryClassifier"/>, --aux-classifier).</summary>
public class AuxiliaryClassifierTests
{
    private static readonly ModelConfig Conditional = new() { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, NumClasses = 4, AuxiliaryClassifier = true };

    [Test]
    public void TheDiscriminatorGainsAClassHeadAndSeesTheImageAlone()
    {
        using var d = new Discriminator(Conditional);
        var state = d.state_dict();
        Assert.That(state["class_head.weight"].shape, Is.EqualTo(new long[] { 4, 16 * 7 * 7 }), "one row per class over the features the last layer reads");
        Assert.That(state.Keys, Does.Not.Contain("label_plane.weight").And.No.Contains("projection.weight"));
        Assert.That(state["body.conv1.weight"].shape[1], Is.EqualTo(1), "no class plane: the head would read the label from it");

        using var both = new Discriminator(Conditional with { Projection = true });
        Assert.That(both.state_dict().Keys, Does.Contain("class_head.weight").And.Contains("projection.weight"));
    }

    [Test]
    public void OnePassGivesTheLogitsOfTheConditionalForwardAndClassLogitsThatDoNotReadTheLabel()
    {
        manual_seed(7);
        using var d = new Discriminator(Conditional with { Projection = true });
        d.eval();
        using var _ = no_grad();
        using var images = rand(5, 1, 28, 28);
        using var classZero = zeros(5, ScalarType.Int64);
        using var threes = full(5, 3L, ScalarType.Int64);
        var (logits, classLogits) = d.ForwardWithClasses(images, threes);
        var (logitsZero, classLogitsZero) = d.ForwardWithClasses(images, classZero);
        using var plain = d.forward(images, threes);
        Assert.That(classLogits.shape, Is.EqualTo(new long[] { 5, 4 }));
        Assert.That((logits - plain).abs().max().item<float>(), Is.LessThan(1e-6f), "the same logits as forward(images, labels)");
        Assert.That((logits - logitsZero).abs().max().item<float>(), Is.GreaterThan(1e-4f), "the projection's class term stays");
        Assert.That((classLogits - classLogitsZero).abs().max().item<float>(), Is.EqualTo(0f), "the class head sees the image only");
        using var plainModel = new Discriminator(Conditional with { AuxiliaryClassifier = false });
        Assert.That(() => plainModel.ForwardWithClasses(images, classZero), Throws.TypeOf<TrainerException>().With.Message.Contains("no auxiliary classifier"));
    }

    [Test]
    public void TrainingTeachesTheHeadTheLabelsAndTheGeneratorTheClassesItIsAskedFor()
    {
        manual_seed(1);
        using var data = TestData.Dataset(128, 28, 1, ValueRange.Tanh, classes: 4);
        var folder = TestData.NewTempFolder();
        var options = new TrainingOptions
        {
            Convolutions = ConvolutionKernels.Exact, Steps = 120, BatchSize = 32, SampleEvery = 0, CheckpointEvery = 0, LogEvery = 10,
            LearningRateG = 1e-3, LearningRateD = 1e-3, Seed = 3,
        };
        var checkpoint = new GanTrainer(Conditional, options, folder, TextWriter.Null).Train(data);

        // The head classifies the real images by their labels (it learned them; chance is 25 %).
        var saved = Checkpoint.Load(checkpoint);
        using var d = new Discriminator(saved.Info.Model);
        saved.LoadInto(d, "discriminator", checkpoint);
        d.eval();
        using (no_grad())
        {
            var (_, classLogits) = d.ForwardWithClasses(data.Images, data.Labels);
            var realAccuracy = classLogits.argmax(1).eq(data.Labels).to_type(ScalarType.Float32).mean().item<float>();
            Assert.That(realAccuracy, Is.GreaterThan(0.9f));
        }

        // The generator learned to make what the head takes for the asked class: the logged share of its fakes the head
        // classified as asked, over the last 40 steps.
        var hits = File.ReadAllLines(Path.Combine(folder, "metrics.jsonl")).Select(l => JsonSerializer.Deserialize<StepMetrics>(l)!.CodeAccuracy!.Value).ToArray();
        Assert.That(hits.TakeLast(4).Average(), Is.GreaterThan(0.8), string.Join(", ", hits));
    }

    [Test]
    public void RunsResumeExactlyAndTheSettingMustMatch()
    {
        using var data = TestData.Dataset(48, 28, 1, ValueRange.Tanh, classes: 4);
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 4, BatchSize = 16, SampleEvery = 0, CheckpointEvery = 0 };
        var (straight, halfway) = TestData.AssertResumeIsExact(Conditional, data, options);
        Assert.That(Checkpoint.Load(straight).Info.Model.AuxiliaryClassifier, Is.True, "kept in the checkpoint");

        var without = new GanTrainer(Conditional with { AuxiliaryClassifier = false }, options, TestData.NewTempFolder(), TextWriter.Null);
        Assert.That(() => without.Train(data, resumeFrom: halfway),
            Throws.TypeOf<TrainerException>().With.Message.Contains("auxiliary classifier on in the checkpoint, auxiliary classifier off here"));
    }

    [Test]
    public void AnUnconditionalModelIsRefused()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, AuxiliaryClassifier = true };
        Assert.That(model.Validate, Throws.TypeOf<TrainerException>().With.Message.Contains("ModelConfig.AuxiliaryClassifier is for conditional models"));
        var error = TestData.RefusedTraining("--aux-classifier --width 8 --clusters 3");
        Assert.That(error, Does.Contain("--aux-classifier is for conditional models (--conditional)"));
    }

    [Test]
    public void TheFlagReachesTheCheckpointTheLogAndTheProgressLine()
    {
        var data = TestData.IdxFolder(count: 32);
        var run = TestData.NewTempFolder();
        var (code, output, error) = TestData.RunCli("train", "--data", data, "--out", run, "--steps", "2", "--batch-size", "16", "--width", "8", "--latent", "16",
            "--conditional", "--projection", "--aux-classifier", "--log-every", "1");
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("bce loss, projection discriminator, auxiliary classifier, Adam"));
        Assert.That(output, Does.Match(@"step +2/2 .* class \d+ ?%"), "the progress line says how often the head named the asked class");
        Assert.That(Checkpoint.Load(Path.Combine(run, "checkpoint.gockpt")).Info.Model.AuxiliaryClassifier, Is.True);
    }
}
