using System.Text.Json;
using GanOnnx.Runtime;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Onnx;
using GanOnnx.Trainer.Training;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Tests.Models;

/// <summary>The InfoGAN code of unconditional models (<see cref="ModelConfig.LatentClasses"/>).</summary>
public class InfoGanCodeTests
{
    [Test]
    public void TheCodeHeadLearnsTheCategoryOnlyWhenTheCodeLossTrainsIt()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 32, LatentDim = 16, LatentClasses = 4 };
        using var data = TestData.Dataset(128, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Steps = 120, BatchSize = 32, LearningRateG = 1e-3, LearningRateD = 1e-3, LogEvery = 10, SampleEvery = 0, CheckpointEvery = 0, SampleCount = 4 };

        // How often the trained discriminator's code head names the category of 1,000 fresh images of the trained generator.
        (double Accuracy, string Log, float?[] Logged) Train(TrainingOptions o)
        {
            var folder = TestData.NewTempFolder();
            var writer = new StringWriter();
            var path = new GanTrainer(model, o, folder, writer).Train(data);
            var checkpoint = Checkpoint.Load(path);
            Assert.That(checkpoint.Info.Model.LatentClasses, Is.EqualTo(4));
            using var g = checkpoint.LoadGenerator(path);
            using var d = new Discriminator(model);
            checkpoint.LoadInto(d, "discriminator", path);
            d.eval();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var random = new TorchSharp.torch.Generator(5);
            var z = Generator.SampleLatents(model, 1000, CPU, random);
            var (_, codeLogits) = d.ForwardWithCode(g.forward(z));
            var accuracy = codeLogits.argmax(1).eq(Generator.LatentCode(model, z)).to_type(ScalarType.Float64).mean().item<double>();
            var logged = File.ReadAllLines(Path.Combine(folder, "metrics.jsonl")).Select(l => JsonSerializer.Deserialize<StepMetrics>(l)!.CodeAccuracy).ToArray();
            return (accuracy, writer.ToString(), logged);
        }

        var trained = Train(options);
        var control = Train(options with { CodeWeight = 0 }); // neither player learns the code: the head stays near chance
        TestContext.Out.WriteLine($"code accuracy (chance 0.25): trained {trained.Accuracy:F3}, code loss weighted 0: {control.Accuracy:F3}");
        Assert.That(trained.Accuracy, Is.GreaterThan(0.7));
        Assert.That(control.Accuracy, Is.LessThan(0.4));
        Assert.That(trained.Logged, Has.Length.EqualTo(12).And.All.Not.Null, "metrics.jsonl logs the code accuracy");
        Assert.That(trained.Log, Does.Contain("  code "));
    }

    [Test]
    public void APlainModelLogsNoCodeAccuracy()
    {
        var folder = TestData.TrainTinyMlp(steps: 2);
        Assert.That(File.ReadAllText(Path.Combine(folder, "metrics.jsonl")), Does.Not.Contain("CodeAccuracy"));
    }

    [Test]
    public void TheExportedModelHasThePlainUnconditionalContract()
    {
        manual_seed(3);
        using var generator = new Generator(new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 12, LatentClasses = 5 });
        generator.eval();
        var path = Path.Combine(TestData.NewTempFolder(), "g.onnx");
        var result = OnnxExporter.Export(generator, new ExportOptions { Dataset = "bars" }, path);
        Assert.That(result.Inputs, Has.Count.EqualTo(1));
        using var session = GeneratorSession.Load(path);
        Assert.That(session.Contract.IsConditional, Is.False);
        Assert.That(session.Contract.LatentDim, Is.EqualTo(12));

        // Latents whose first value falls into different classes (1 → class 4 of 5, 0 → class 2) make different images;
        // latents that differ a little elsewhere make nearly the same ones (the generator is smooth in z, not in the code).
        var a = new float[12];
        var b = (float[])a.Clone();
        var c = (float[])a.Clone();
        a[0] = 1f; b[1] = 1f; c[0] = 1f; c[7] = 0.01f;
        var pa = session.GenerateFromLatents(a, null).Pixels;
        var pb = session.GenerateFromLatents(b, null).Pixels;
        var pc = session.GenerateFromLatents(c, null).Pixels;
        double Distance(float[] x, float[] y) => Math.Sqrt(x.Zip(y, (p, q) => (double)(p - q) * (p - q)).Sum());
        Assert.That(Distance(pa, pb), Is.GreaterThan(10 * Distance(pa, pc)));
    }

    [TestCase("10 --conditional", "unconditional")]
    [TestCase("1", "at least 2")]
    [TestCase("17", "only 16")]
    [TestCase("-3", "between 0 (none) and 1000")]
    public void BadCodeOptionsAreRefusedBeforeAnythingIsWritten(string options, string message) =>
        Assert.That(TestData.RefusedTraining("--latent 16 --latent-classes " + options), Does.Contain(message));
}
