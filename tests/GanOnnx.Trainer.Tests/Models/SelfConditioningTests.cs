using GanOnnx.Trainer.Cli;
using GanOnnx.Runtime;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Tests.Models;

/// <summary>Self-conditioned training (<see cref="ModelConfig.Clustered"/>, --clusters): k-means pseudo-labels.</summary>
public class SelfConditioningTests
{
    [Test]
    public void KMeansFindsTheGroupsOfWellSeparatedImages()
    {
        using var data = TestData.Dataset(300, 28, 1, ValueRange.Sigmoid, classes: 5); // five bar positions, 60 images each
        var (assignments, shares) = ImageClusters.Assign(data.Images, 5, seed: 3);
        using var _ = assignments;
        var clusters = assignments.data<long>().ToArray();
        var labels = data.Labels.data<long>().ToArray();

        // Every cluster holds exactly one bar position, and every position has its own cluster.
        var pairs = clusters.Zip(labels).Distinct().ToArray();
        Assert.That(pairs, Has.Length.EqualTo(5), string.Join(" ", pairs));
        Assert.That(pairs.Select(p => p.First).Distinct().Count(), Is.EqualTo(5));
        Assert.That(shares, Is.EqualTo(new[] { 0.2, 0.2, 0.2, 0.2, 0.2 }).Within(1e-12));

        var (again, _) = ImageClusters.Assign(data.Images, 5, seed: 3);
        using (again) Assert.That(again.data<long>().ToArray(), Is.EqualTo(clusters), "the same seed gives the same clusters");
    }

    [Test]
    public void LargeImagesAreClusteredToo()
    {
        using var data = TestData.Dataset(60, 64, 3, ValueRange.Tanh, classes: 3);
        var (assignments, shares) = ImageClusters.Assign(data.Images, 3, seed: 1);
        using var _ = assignments;
        Assert.That(assignments.data<long>().ToArray().Zip(data.Labels.data<long>().ToArray()).Distinct().Count(), Is.EqualTo(3));
        Assert.That(shares.Sum(), Is.EqualTo(1).Within(1e-12));
    }

    [Test]
    public void MoreClustersThanImagesIsRefused()
    {
        using var data = TestData.Dataset(8, 28, 1, ValueRange.Sigmoid);
        Assert.That(() => ImageClusters.Assign(data.Images, 9, seed: 1),
            Throws.TypeOf<TrainerException>().With.Message.Contains("ModelConfig.LatentClasses (clustered) is 9").And.Message.Contains("only 8 images"));
    }

    [Test]
    public void TheGeneratorLearnsToDrawTheClusterItsLatentAsksFor()
    {
        var clustered = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 32, LatentDim = 16, LatentClasses = 4, Clustered = true };
        using var data = TestData.Dataset(128, 28, 1, clustered.ValueRange, classes: 4);
        var options = new TrainingOptions { Steps = 150, BatchSize = 32, LearningRateG = 1e-3, LearningRateD = 1e-3, SampleEvery = 0, CheckpointEvery = 0, SampleCount = 4 };
        var trainedPath = new GanTrainer(clustered, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var trained = Checkpoint.Load(trainedPath);

        // The checkpoint keeps the clusters and their shares as the model's prior.
        var model = trained.Info.Model;
        Assert.That((model.Clustered, model.LatentClasses), Is.EqualTo((true, 4)));
        Assert.That(model.LatentClassPrior, Is.EqualTo(new[] { 0.25, 0.25, 0.25, 0.25 }).Within(1e-12), "four bar positions, 32 images each");
        Assert.That(trained.Sections["clusters"], Has.Length.EqualTo(128 * sizeof(long)));

        // Control: a plain GAN, where nothing ties an image to its latent's first value.
        var plainPath = new GanTrainer(clustered with { LatentClasses = 0, Clustered = false }, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var clusters = tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(trained.Sections["clusters"]).ToArray());
        var flat = data.Images.flatten(1);
        var centres = zeros([4, flat.shape[1]]).index_add_(0, clusters, flat, 1) / clusters.bincount(null, 4).unsqueeze(1).to_type(ScalarType.Float32);

        // The share of 1,000 fresh images that lie nearest the centre of the cluster their latent selects.
        double Agreement(string path)
        {
            using var g = Checkpoint.Load(path).LoadGenerator(path);
            using var random = new TorchSharp.torch.Generator(5);
            var z = Generator.SampleLatents(model, 1000, CPU, random);
            var nearest = cdist(g.forward(z).flatten(1), centres).argmin(1);
            return nearest.eq(Generator.LatentCode(model, z)).to_type(ScalarType.Float64).mean().item<double>();
        }

        var (selfConditioned, plain) = (Agreement(trainedPath), Agreement(plainPath));
        TestContext.Out.WriteLine($"images in the cluster their latent asks for (chance 0.25): self-conditioned {selfConditioned:F3}, plain {plain:F3}");
        // 150 steps are enough to tie images to clusters well above chance (measured 0.47 against 0.25), though not yet
        // to tie every image: the discriminator's verdict is the only thing that teaches it.
        Assert.That(selfConditioned, Is.GreaterThan(0.4));
        Assert.That(plain, Is.LessThan(0.32));
    }

    [Test]
    public void TheDiscriminatorIsToldTheClusters()
    {
        var config = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, LatentClasses = 3, Clustered = true };
        using var d = new Discriminator(config);
        using var images = zeros(2, 1, 28, 28);
        Assert.That(() => d.forward(images), Throws.TypeOf<TrainerException>().With.Message.Contains("clusters"));
        using var scores = d.forward(images, tensor(new long[] { 0, 2 }));
        Assert.That(scores.shape, Is.EqualTo(new long[] { 2 }));
        Assert.That(() => d.ForwardWithCode(images), Throws.TypeOf<TrainerException>(), "no InfoGAN head");
    }

    [Test]
    public void TheCliTrainsASelfConditionedModel()
    {
        var data = TestData.IdxFolder(count: 64);
        var run = Path.Combine(TestData.NewTempFolder(), "run");
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = TrainerCli.Run(["train", "--data", data, "--out", run, "--arch", "mlp", "--steps", "2", "--batch-size", "16", "--latent", "16", "--clusters", "5"], output, error);
        Assert.That(code, Is.EqualTo(0), error.ToString());
        Assert.That(output.ToString(), Does.Contain("Clustered 64 images into 5 groups"));
        var checkpoint = Checkpoint.Load(Path.Combine(run, "checkpoint.gockpt"));
        Assert.That((checkpoint.Info.Model.Clustered, checkpoint.Info.Model.LatentClasses), Is.EqualTo((true, 5)));
        Assert.That(checkpoint.Info.Model.LatentClassPrior!.Sum(), Is.EqualTo(1).Within(1e-9));
    }

    [Test]
    public void TheExportedModelSaysItsLatentHasClassesSoTruncationKeepsTheirMix()
    {
        manual_seed(2);
        using var generator = new Generator(new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 12, LatentClasses = 5, Clustered = true, LatentClassPrior = [0.1, 0.2, 0.3, 0.2, 0.2] });
        generator.eval();
        var path = Path.Combine(TestData.NewTempFolder(), "g.onnx");
        Onnx.OnnxExporter.Export(generator, new Onnx.ExportOptions { Dataset = "bars" }, path);
        using var session = GeneratorSession.Load(path, new GeneratorOptions { Truncation = 0.5f });
        Assert.That((session.Contract.IsConditional, session.Contract.LatentClasses), Is.EqualTo((false, 5)));
        Assert.That(session.Sampler.Untruncated, Is.EqualTo(1));
        var plain = new LatentSampler(12).Sample(3, 7);
        Assert.That(session.Sampler.Sample(3, 7)[0], Is.EqualTo(plain[0]));
    }

    [Test]
    public void AClusterCanBeAskedForFromTheExportedModelAndTheGraphPicksExactlyThatCluster()
    {
        manual_seed(4);
        var config = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 12, LatentClasses = 5, Clustered = true, LatentClassPrior = [0.1, 0.3, 0.2, 0.25, 0.15] };
        using var generator = new Generator(config);
        generator.eval();
        var path = Path.Combine(TestData.NewTempFolder(), "g.onnx");
        Onnx.OnnxExporter.Export(generator, new Onnx.ExportOptions { Dataset = "bars" }, path);
        using var session = GeneratorSession.Load(path);
        Assert.That(session.Contract.LatentClassThresholds, Is.EqualTo(config.LatentClassThresholds()), "the metadata holds the graph's float32 thresholds exactly");

        const int count = 40;
        for (var k = 0; k < 5; k++)
        {
            var images = session.Generate(count, seed: 3, startIndex: 0, classIndex: k);
            Assert.That(images.Labels, Is.All.EqualTo(k));
            var latents = new float[count * 12];
            session.Sampler.FillBatch(3, 0, count, latents);
            var plain = (float[])latents.Clone();
            session.PlaceInLatentClass(latents, k);
            for (var i = 0; i < count; i++)
                Assert.That(latents.AsSpan(i * 12 + 1, 11).ToArray(), Is.EqualTo(plain.AsSpan(i * 12 + 1, 11).ToArray()), "only the first value moves");
            using var z = tensor(latents).reshape(count, 12);
            using var code = Generator.LatentCode(config, z);
            Assert.That(code.data<long>().ToArray(), Is.All.EqualTo(k), "torch reads the asked-for cluster");
            using (no_grad())
            {
                using var expected = generator.forward(z);
                Assert.That(images.Pixels.ToArray(), Is.EqualTo(expected.data<float>().ToArray()).Within(1e-4), $"the ONNX model drew cluster {k} as torch does");
            }
        }
        Assert.That(() => session.Generate(1, 3, 0, classIndex: 5), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("latent class"));
    }

    [TestCase("--latent 16 --clusters 4 --conditional", "unconditional")]
    [TestCase("--latent 16 --clusters 4 --latent-classes 4", "choose one")]
    [TestCase("--latent 16 --clusters 1", "--clusters is 1; it needs at least 2")]
    [TestCase("--latent 16 --clusters 17", "--clusters is 17 but the latent has only 16 values")]
    [TestCase("--latent 64 --clusters 12", "only 8 images")]
    public void BadClusterOptionsAreRefusedBeforeAnythingIsWritten(string options, string message) =>
        Assert.That(TestData.RefusedTraining(options, count: 8), Does.Contain(message));
}
