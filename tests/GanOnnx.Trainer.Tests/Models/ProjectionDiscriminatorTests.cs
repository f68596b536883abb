using GanOnnx.Runtime;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests.Models;

/// <summary>The projection discriminator (<see cref="ModelConfig.Projection"/>, --projection).</summary>
public class ProjectionDiscriminatorTests
{
    private static readonly ModelConfig Conditional = new() { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, NumClasses = 4, Projection = true };

    [Test]
    public void ItReplacesTheClassPlaneWithAClassVectorPerFeature()
    {
        using var d = new Discriminator(Conditional);
        var state = d.state_dict();
        Assert.That(state.Keys, Does.Contain("projection.weight").And.No.Contains("label_plane.weight"));
        Assert.That(state["projection.weight"].shape, Is.EqualTo(new long[] { 4, 16 * 7 * 7 }), "one vector per class over the features the last layer reads");
        Assert.That(state["body.conv1.weight"].shape[1], Is.EqualTo(1), "the image alone goes in: no extra plane channel");

        using var plain = new Discriminator(Conditional with { Projection = false });
        Assert.That(plain.state_dict()["body.conv1.weight"].shape[1], Is.EqualTo(2), "the plane discriminator reads image + plane");
    }

    [Test]
    public void TheLabelChangesTheLogitByTheDifferenceOfTheClassVectorsOverTheFeatures()
    {
        manual_seed(3);
        using var d = new Discriminator(Conditional);
        d.eval();
        using var images = rand(5, 1, 28, 28);
        using var classZero = zeros(5, ScalarType.Int64);
        using var threes = full(5, 3L, ScalarType.Int64);
        using var a = d.forward(images, classZero);
        using var b = d.forward(images, threes);
        Assert.That(a.shape, Is.EqualTo(new long[] { 5 }));
        var difference = (a - b).abs().max().item<float>();
        Assert.That(difference, Is.GreaterThan(1e-4f), "the class must matter");
        Assert.That(() => d.forward(images, null), Throws.TypeOf<TrainerException>().With.Message.Contains("labels"));

        // Zeroing the class vectors leaves the unconditional logit, the same for every label.
        using (no_grad()) d.named_parameters().Single(p => p.name == "projection.weight").parameter.zero_();
        using var c = d.forward(images, classZero);
        using var e = d.forward(images, threes);
        Assert.That((c - e).abs().max().item<float>(), Is.EqualTo(0f));
    }

    [Test]
    public void ItLearnsWhichLabelBelongsToWhichImage()
    {
        // Trained alone to tell (image, its label) from (image, another label), the discriminator must read the label.
        manual_seed(5);
        using var data = TestData.Dataset(128, 28, 1, ValueRange.Tanh, classes: 4);
        using var d = new Discriminator(Conditional);
        using var optimizer = optim.Adam(d.parameters(), 2e-3);
        using var wrong = data.Labels.add(1).remainder(4);
        for (var step = 0; step < 150; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var right = d.forward(data.Images, data.Labels);
            var other = d.forward(data.Images, wrong);
            var loss = nn.functional.binary_cross_entropy_with_logits(right, ones_like(right))
                       + nn.functional.binary_cross_entropy_with_logits(other, zeros_like(other));
            loss.backward();
            optimizer.step();
        }
        d.eval();
        using var _ = no_grad();
        using var r = d.forward(data.Images, data.Labels);
        using var o = d.forward(data.Images, wrong);
        var accuracy = (r.gt(0).sum().item<long>() + o.le(0).sum().item<long>()) / 256.0;
        Assert.That(accuracy, Is.GreaterThan(0.95));
    }

    [Test]
    public void ConditionalAndSelfConditionedRunsTrainAndResumeExactly()
    {
        foreach (var model in new[] { Conditional, new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, LatentClasses = 3, Clustered = true, Projection = true } })
        {
            using var data = TestData.Dataset(48, 28, 1, model.ValueRange, classes: 4);
            var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 4, BatchSize = 16, SampleEvery = 0, CheckpointEvery = 0 };
            var (straight, halfway) = TestData.AssertResumeIsExact(model, data, options);
            Assert.That(Checkpoint.Load(straight).Info.Model.Projection, Is.True, "kept in the checkpoint");

            var withoutProjection = new GanTrainer(model with { Projection = false }, options, TestData.NewTempFolder(), TextWriter.Null);
            Assert.That(() => withoutProjection.Train(data, resumeFrom: halfway),
                Throws.TypeOf<TrainerException>().With.Message.Contains("projection discriminator on in the checkpoint, projection discriminator off here"));
        }
    }

    [Test]
    public void AnUnconditionalModelIsRefused()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, Projection = true };
        Assert.That(model.Validate, Throws.TypeOf<TrainerException>().With.Message.Contains("ModelConfig.Projection is for conditional"));
        var error = TestData.RefusedTraining("--projection --width 8");
        Assert.That(error, Does.Contain("--projection is for conditional (--conditional) or self-conditioned (--clusters) models"));
    }

    [Test]
    public void TheFlagReachesTheCheckpointAndTheLog()
    {
        var data = TestData.IdxFolder(count: 32);
        var run = TestData.NewTempFolder();
        var (code, output, error) = TestData.RunCli("train", "--data", data, "--out", run, "--steps", "2", "--batch-size", "16", "--width", "8", "--latent", "16", "--conditional", "--projection");
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("bce loss, projection discriminator, Adam"));
        Assert.That(Checkpoint.Load(Path.Combine(run, "checkpoint.gockpt")).Info.Model.Projection, Is.True);
    }
}
