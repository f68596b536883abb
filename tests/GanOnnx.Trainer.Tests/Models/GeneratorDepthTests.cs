using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Tests.Models;

/// <summary>A deeper DCGAN generator (<see cref="ModelConfig.GeneratorDepth"/>, <c>--g-depth</c>).</summary>
public class GeneratorDepthTests
{
    private static readonly ModelConfig Plain = new() { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, DiscriminatorDropout = 0 };

    [Test]
    public void EachResolutionGainsItsExtraLayersAndTheWriteUpsLayersStayAsTheyWere()
    {
        using var plain = new Generator(Plain);
        using var deep = new Generator(Plain with { GeneratorDepth = 2 });
        var plainShapes = plain.state_dict().ToDictionary(p => p.Key, p => string.Join("×", p.Value.shape));
        var deepShapes = deep.state_dict().ToDictionary(p => p.Key, p => string.Join("×", p.Value.shape));
        foreach (var (name, shape) in plainShapes)
            Assert.That(deepShapes[name], Is.EqualTo(shape), name);

        // 28×28: 16 maps at 7×7 (after the reshape), 8 at 14×14 (after the hidden block); none after the output layer.
        var extra = deepShapes.Where(p => !plainShapes.ContainsKey(p.Key) && p.Key.EndsWith(".weight") && !p.Key.Contains("_bn"))
            .ToDictionary(p => p.Key, p => p.Value);
        Assert.That(extra, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["body.extra0_1.weight"] = "16×16×3×3", ["body.extra0_2.weight"] = "16×16×3×3",
            ["body.extra1_1.weight"] = "8×8×3×3", ["body.extra1_2.weight"] = "8×8×3×3",
        }));
        Assert.That(deep.Body.named_children().Count(c => c.module is BatchNorm2d), Is.EqualTo(1 + 4), "each extra layer has its BatchNorm");

        // Training mode (batch statistics): what the weights make, not what fresh running statistics shrink to zero.
        using var z = randn(6, 8);
        using var images = deep.forward(z);
        Assert.That(images.shape, Is.EqualTo(new long[] { 6, 1, 28, 28 }));
        Assert.That(images.abs().max().item<float>(), Is.LessThanOrEqualTo(1f), "tanh");

        // The extra layers are in the path: other weights in one of them make other images.
        using (no_grad()) deep.state_dict()["body.extra1_2.weight"].normal_();
        using var changed = deep.forward(z);
        Assert.That(changed.sub(images).abs().max().item<float>(), Is.GreaterThan(1e-3f));
    }

    [Test]
    public void A64PixelRgbGeneratorGetsExtraLayersAtEachOfItsFourResolutions()
    {
        var model = Plain with { ImageSize = 64, Channels = 3, GeneratorDepth = 1 };
        using var g = new Generator(model);
        var extra = g.state_dict().Where(p => p.Key.StartsWith("body.extra") && p.Key.EndsWith("_1.weight")).ToDictionary(p => p.Key, p => p.Value.shape[0]);
        Assert.That(extra, Is.EquivalentTo(new Dictionary<string, long>
        {
            ["body.extra0_1.weight"] = 64, ["body.extra1_1.weight"] = 32, ["body.extra2_1.weight"] = 16, ["body.extra3_1.weight"] = 8,
        }));
        g.eval();
        using var z = randn(2, 8);
        using var images = g.forward(z);
        Assert.That(images.shape, Is.EqualTo(new long[] { 2, 3, 64, 64 }));
    }

    [TestCase(GanArchitecture.Dcgan, 5, "ModelConfig.GeneratorDepth is 5; it must be between 0")]
    [TestCase(GanArchitecture.Dcgan, -1, "ModelConfig.GeneratorDepth is -1; it must be between 0")]
    [TestCase(GanArchitecture.KerasDcgan, 1, "ModelConfig.GeneratorDepth is for the dcgan architecture; keras-dcgan")]
    [TestCase(GanArchitecture.Mlp, 1, "ModelConfig.GeneratorDepth is for the dcgan architecture; mlp")]
    public void AnUnsupportedDepthIsRefused(GanArchitecture architecture, int depth, string message)
    {
        var model = Plain with { Architecture = architecture, GeneratorDepth = depth };
        Assert.That(() => model.Validate(), Throws.TypeOf<TrainerException>().With.Message.Contains(message));
    }

    [Test]
    public void ADeeperRunTrainsResumesExactlyAndCannotResumeAnotherDepth()
    {
        var model = Plain with { GeneratorDepth = 1 };
        using var data = TestData.Dataset(40, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 4, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0 };
        var (_, halfway) = TestData.AssertResumeIsExact(model, data, options);
        Assert.That(Checkpoint.Load(halfway).Info.Model.GeneratorDepth, Is.EqualTo(1), "the checkpoint records the depth");

        var log = new StringWriter();
        Assert.That(() => new GanTrainer(Plain, options, TestData.NewTempFolder(), log).Train(data, halfway),
            Throws.TypeOf<TrainerException>().With.Message.Contains("generator depth 1 in the checkpoint, generator depth 0 here"));
    }

    [Test]
    public void AWarmStartNeedsTheSameDepthEitherWay()
    {
        using var data = TestData.Dataset(32, 28, 1, Plain.ValueRange);
        var folder = TestData.NewTempFolder();
        var options = new TrainingOptions { Steps = 1, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0 };
        var shallow = new GanTrainer(Plain, options, Path.Combine(folder, "shallow"), TextWriter.Null).Train(data);
        var deep = new GanTrainer(Plain with { GeneratorDepth = 1 }, options, Path.Combine(folder, "deep"), TextWriter.Null).Train(data);
        foreach (var (model, source, message) in new (ModelConfig, string, string)[]
        {
            (Plain with { GeneratorDepth = 1 }, shallow, "the generator's 'body.extra0_1.weight' is missing, this run's is 16×16×3×3"),
            (Plain, deep, "the generator's 'body.extra0_1.weight' (16×16×3×3) has no counterpart in this run's generator"),
        })
        {
            var target = Path.Combine(folder, $"from-{Path.GetFileName(Path.GetDirectoryName(source))}");
            Assert.That(() => new GanTrainer(model, options with { InitFrom = source }, target, TextWriter.Null).Train(data),
                Throws.TypeOf<TrainerException>().With.Message.Contains(message).And.Message.Contains("--g-depth"));
            Assert.That(Directory.Exists(target), Is.False, "refused before anything is written");
        }
    }

    [Test]
    public void TheCliBuildsTheDeeperGeneratorAndNamesItsOptionWhenRefusing()
    {
        var data = TestData.IdxFolder(count: 32);
        var folder = TestData.NewTempFolder();
        string[] common = ["train", "--data", data, "--batch-size", "8", "--steps", "1", "--width", "8", "--latent", "8"];
        var (code, output, error) = TestData.RunCli([.. common, "--out", Path.Combine(folder, "deep"), "--g-depth", "2"]);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("Training dcgan with 2 extra generator layer(s) per resolution on"));
        Assert.That(Checkpoint.Load(Path.Combine(folder, "deep", "checkpoint.gockpt")).Info.Model.GeneratorDepth, Is.EqualTo(2));

        var refused = Path.Combine(folder, "mlp");
        (code, _, error) = TestData.RunCli([.. common, "--out", refused, "--g-depth", "1", "--arch", "mlp"]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--g-depth is for the dcgan architecture; mlp"));
        Assert.That(Directory.Exists(refused), Is.False, "nothing is written");
    }
}
