using GanOnnx.Trainer.Cli;
using GanOnnx.Runtime;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using GanOnnx.Trainer.Data;
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
    public void KMeansClustersFeatureVectorsToo()
    {
        // Three tight groups of 4-d vectors around far-apart centres, 10 each, interleaved.
        var centres = new float[][] { [5, 0, 0, 0], [0, 5, 0, 0], [0, 0, 0, 5] };
        var random = new Random(7);
        var rows = Enumerable.Range(0, 30).SelectMany(i => centres[i % 3].Select(v => v + (float)(random.NextDouble() - 0.5) * 0.2f)).ToArray();
        using var points = tensor(rows).reshape(30, 4);
        var (assignments, shares) = ImageClusters.Assign(points, 3, seed: 2);
        using var _ = assignments;
        var clusters = assignments.data<long>().ToArray();
        Assert.That(Enumerable.Range(0, 30).Select(i => (clusters[i], i % 3)).Distinct().Count(), Is.EqualTo(3), string.Join(" ", clusters));
        Assert.That(shares, Is.EqualTo(new[] { 1 / 3.0, 1 / 3.0, 1 / 3.0 }).Within(1e-12));
    }

    [Test]
    public void PurityIsTheShareOfItemsInAClusterWhoseMostCommonClassIsTheirs()
    {
        using var assignments = tensor(new long[] { 0, 0, 0, 1, 1, 2 });
        using var labels = tensor(new long[] { 5, 5, 6, 6, 6, 7 });
        Assert.That(ImageClusters.Purity(assignments, labels), Is.EqualTo(5 / 6.0).Within(1e-12));
        using var perfect = tensor(new long[] { 2, 2, 0, 0, 1, 1 });
        using var classes = tensor(new long[] { 9, 9, 3, 3, 4, 4 });
        Assert.That(ImageClusters.Purity(perfect, classes), Is.EqualTo(1));
        using var short_ = tensor(new long[] { 1 });
        Assert.That(() => ImageClusters.Purity(short_, classes), Throws.ArgumentException);
    }

    [Test]
    public void TheDiscriminatorsFeaturesAreWhatItsLastLayerReads()
    {
        manual_seed(1);
        var config = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, DiscriminatorDropout = 0.3 };
        using var d = new Discriminator(config);
        using var images = rand(3, 1, 28, 28);
        using var features = d.Features(images);
        using var again = d.Features(images);
        Assert.That(features.shape, Is.EqualTo(new long[] { 3, 16 * 7 * 7 }));
        Assert.That(features.requires_grad, Is.False);
        Assert.That(again.data<float>().ToArray(), Is.EqualTo(features.data<float>().ToArray()), "dropout is off for the pass");
        Assert.That(d.training, Is.True, "the discriminator's mode is left as it was");

        var planeConfig = config with { LatentClasses = 3, Clustered = true };
        using var plane = new Discriminator(planeConfig);
        Assert.That(() => plane.Features(images), Throws.TypeOf<TrainerException>().With.Message.Contains("labels are required"));
        using var labelled = plane.Features(images, tensor(new long[] { 0, 1, 2 }));
        Assert.That(labelled.shape, Is.EqualTo(new long[] { 3, 16 * 7 * 7 }));
    }

    [Test]
    public void TheCliClustersOnAnEarlierRunsDiscriminatorAndResumesWithoutIt()
    {
        var data = TestData.IdxFolder(count: 64);
        var folder = TestData.NewTempFolder();
        string[] common = ["train", "--data", data, "--arch", "mlp", "--batch-size", "16", "--latent", "16"];
        var (code, _, error) = TestData.RunCli([.. common, "--out", Path.Combine(folder, "first"), "--steps", "2"]);
        Assert.That(code, Is.EqualTo(0), error);
        var source = Path.Combine(folder, "source.gockpt");
        File.Move(Path.Combine(folder, "first", "checkpoint.gockpt"), source);

        var run = Path.Combine(folder, "run");
        string output;
        (code, output, error) = TestData.RunCli([.. common, "--out", run, "--steps", "2", "--clusters", "4", "--cluster-features", source, "--checkpoint-every", "1"]);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain($"Clustered 64 images into 4 groups").And.Contain($"k-means on the features of the discriminator in '{source}'").And.Contain("purity against the data's 10 classes"));
        var checkpoint = Checkpoint.Load(Path.Combine(run, "checkpoint.gockpt"));
        Assert.That(checkpoint.Info.Training.ClusterFeatures, Is.EqualTo(source), "the checkpoint records where its clusters came from");

        // A discriminator that reads clusters as an input plane is given the clusters saved with it.
        var second = Path.Combine(folder, "second");
        (code, output, error) = TestData.RunCli([.. common, "--out", second, "--steps", "1", "--clusters", "3", "--cluster-features", Path.Combine(run, "checkpoint.gockpt")]);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("Clustered 64 images into 3 groups"));

        // Resuming reads the clusters back from the run's own checkpoint: the source is no longer needed.
        File.Delete(source);
        var resumed = Path.Combine(folder, "resumed");
        (code, output, error) = TestData.RunCli([.. common, "--out", resumed, "--steps", "3", "--clusters", "4", "--cluster-features", source, "--resume", Path.Combine(run, "checkpoint.gockpt")]);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Not.Contain("Clustered"));
        Assert.That(Checkpoint.Load(Path.Combine(resumed, "checkpoint.gockpt")).Info.Model.LatentClassPrior, Is.EqualTo(checkpoint.Info.Model.LatentClassPrior));
    }

    [Test]
    public void ADiscriminatorOfOtherImagesOrOtherDataIsRefused()
    {
        var folder = TestData.NewTempFolder();
        var mlp = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 16, LatentDim = 8, LatentClasses = 2, Clustered = true };
        var options = new TrainingOptions { Steps = 1, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0, SampleCount = 4 };
        using var gray = TestData.Dataset(16, 28, 1, mlp.ValueRange, classes: 2);
        var source = new GanTrainer(mlp, options, Path.Combine(folder, "source"), TextWriter.Null).Train(gray);

        using var rgb = TestData.Dataset(16, 28, 3, mlp.ValueRange, classes: 2);
        var target = Path.Combine(folder, "rgb");
        Assert.That(() => new GanTrainer(mlp with { Channels = 3 }, options with { ClusterFeatures = source }, target, TextWriter.Null).Train(rgb),
            Throws.TypeOf<TrainerException>().With.Message.Contains("discriminator of 1×28×28 images").And.Message.Contains("3×28×28"));
        Assert.That(Directory.Exists(target), Is.False, "nothing is written");

        // The source reads clusters as a plane, and has none for a set of another size.
        using var other = TestData.Dataset(24, 28, 1, mlp.ValueRange, classes: 2);
        Assert.That(() => new GanTrainer(mlp, options with { ClusterFeatures = source }, target, TextWriter.Null).Train(other),
            Throws.TypeOf<TrainerException>().With.Message.Contains("not the clusters of the 24 images"));
        Assert.That(() => new GanTrainer(mlp with { Clustered = false, LatentClasses = 0 }, options with { ClusterFeatures = source }, target, TextWriter.Null),
            Throws.TypeOf<TrainerException>().With.Message.Contains("not self-conditioned"));
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

    [TestCase("--latent 16 --latent-classes 4 --conditional", "unconditional")]
    [TestCase("--latent 16 --clusters 4 --latent-classes 4", "choose one")]
    [TestCase("--latent 16 --clusters 4 --conditional", "fewer than the 4 clusters asked for in each class")]
    [TestCase("--latent 16 --clusters 1", "--clusters is 1; it needs at least 2")]
    [TestCase("--latent 16 --clusters 17", "--clusters is 17 but the latent has only 16 values")]
    [TestCase("--latent 64 --clusters 12", "only 8 images")]
    [TestCase("--latent 16 --cluster-features run.gockpt", "--cluster-features chooses what a self-conditioned model's clusters are computed on")]
    [TestCase("--latent 16 --clusters 2 --cluster-features missing.gockpt", "Checkpoint 'missing.gockpt' does not exist")]
    public void BadClusterOptionsAreRefusedBeforeAnythingIsWritten(string options, string message) =>
        Assert.That(TestData.RefusedTraining(options, count: 8), Does.Contain(message));

    /// <summary>Bar images in two classes of two looks each: bars 0 and 1 are class 0, bars 2 and 3 class 1.</summary>
    private static ImageDataset ClassesOfTwoLooks(int count, ValueRange range)
    {
        var (pixels, bars) = TestData.Bars(count, classes: 4);
        return ImageDataset.FromBytes("bars", pixels, bars.Select(b => (byte)(b / 2)).ToArray(), count, 1, 28, 28, range);
    }

    [Test]
    public void ClustersWithinClassesFindEachClassesLooksAndTheGeneratorLearnsToDrawTheOneItsLatentAsksFor()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 32, LatentDim = 16, NumClasses = 2, LatentClasses = 2, Clustered = true };
        using var data = ClassesOfTwoLooks(128, model.ValueRange);
        var options = new TrainingOptions { Steps = 800, BatchSize = 32, LearningRateG = 1e-3, LearningRateD = 1e-3, SampleEvery = 0, CheckpointEvery = 0, SampleCount = 4 };
        var trainedPath = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var trained = Checkpoint.Load(trainedPath);
        var saved = trained.Info.Model;
        Assert.That((saved.ClassClusters, saved.NumClasses, saved.LatentClasses, saved.EmbeddedClasses, saved.DiscriminatorClasses), Is.EqualTo((true, 2, 2, 4, 4)));
        Assert.That(saved.LatentClassPrior, Is.EqualTo(new[] { 0.5, 0.5, 0.5, 0.5 }).Within(1e-12), "two bars of 32 images in each class");
        Assert.That(saved.LatentClassThresholds(), Is.EqualTo(new[] { 0f, 0f }), "each class splits its latents at the median");

        // Every (class, cluster) pair holds exactly one bar, and it is a bar of that class.
        var pairs = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(trained.Sections["clusters"]).ToArray();
        var (_, bars) = TestData.Bars(128, classes: 4);
        var matches = pairs.Zip(bars.Select(b => (long)b)).Distinct().ToArray();
        Assert.That(matches, Has.Length.EqualTo(4), string.Join(" ", matches));
        Assert.That(matches.Select(m => m.First).Distinct().Count(), Is.EqualTo(4));
        Assert.That(matches.All(m => m.First / 2 == m.Second / 2), Is.True, "a pair's cluster lies within its class: " + string.Join(" ", matches));

        // Control: the plain conditional GAN, where nothing ties an image to its latent's first value.
        var plainPath = new GanTrainer(model with { LatentClasses = 0, Clustered = false }, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        // With an auxiliary classifier the discriminator has no plane: its projection must be told the pairs (its head
        // learns the classes), or nothing ties an image to its latent's cluster.
        var auxiliaryPath = new GanTrainer(model with { AuxiliaryClassifier = true, Projection = true }, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var flat = data.Images.flatten(1);
        var pairIndex = tensor(pairs);
        var centres = zeros([4, flat.shape[1]]).index_add_(0, pairIndex, flat, 1) / pairIndex.bincount(null, 4).unsqueeze(1).to_type(ScalarType.Float32);

        // The share of 1,000 fresh images of each class that lie nearest the centre of the pair their latent and class select.
        (double Pair, double Class) Agreement(string path)
        {
            using var g = Checkpoint.Load(path).LoadGenerator(path);
            using var random = new TorchSharp.torch.Generator(5);
            var z = Generator.SampleLatents(saved, 1000, CPU, random);
            var labels = arange(1000, dtype: ScalarType.Int64) % 2;
            var nearest = cdist(g.forward(z, labels).flatten(1), centres).argmin(1);
            double Share(Tensor hits) => hits.to_type(ScalarType.Float64).mean().item<double>();
            return (Share(nearest.eq(Generator.LatentCode(saved, z, labels))), Share(nearest.div(2, rounding_mode: RoundingMode.floor).eq(labels)));
        }

        var ((withinClasses, withinKept), (plain, plainKept), (auxiliary, auxiliaryKept)) = (Agreement(trainedPath), Agreement(plainPath), Agreement(auxiliaryPath));
        TestContext.Out.WriteLine($"images in the (class, cluster) their latent asks for (by chance half of those of the asked class): clusters within classes {withinClasses:F3} (asked class {withinKept:F3}), with an auxiliary classifier and projection {auxiliary:F3} (asked class {auxiliaryKept:F3}), plain conditional {plain:F3} (asked class {plainKept:F3})");
        // Measured at 800 steps: 0.77 against 0.35 (the plain model keeps to the class for 78 % of its images, and then
        // draws either look at random). Fewer steps leave both models still learning the classes themselves.
        Assert.That(withinClasses, Is.GreaterThan(0.65));
        Assert.That(auxiliary, Is.GreaterThan(0.65));
        Assert.That(plain, Is.LessThan(0.5));
    }

    [Test]
    public void AModelWithClustersWithinClassesExportsTheConditionalContractAndTheGraphPicksEachClassesCluster()
    {
        manual_seed(6);
        var config = new ModelConfig
        {
            Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 12, NumClasses = 3, LatentClasses = 2, Clustered = true,
            LatentClassPrior = [0.2, 0.8, 0.5, 0.5, 0.9, 0.1],
        };
        using var generator = new Generator(config);
        generator.eval();
        var path = Path.Combine(TestData.NewTempFolder(), "g.onnx");
        Onnx.OnnxExporter.Export(generator, new Onnx.ExportOptions { Dataset = "bars", ClassNames = ["a", "b", "c"] }, path);
        using var session = GeneratorSession.Load(path);
        Assert.That((session.Contract.IsConditional, session.Contract.NumClasses, session.Contract.LatentClasses), Is.EqualTo((true, 3, 0)));
        using (var truncated = GeneratorSession.Load(path, new GeneratorOptions { Truncation = 0.5f }))
            Assert.That(truncated.Sampler.Untruncated, Is.EqualTo(1), "truncation leaves the cluster selector alone, so the clusters keep their mix");

        // Latents whose first value sits between two classes' thresholds: each class must use its own.
        var thresholds = config.LatentClassThresholds();
        Assert.That(thresholds, Has.Length.EqualTo(3));
        Assert.That(thresholds[0], Is.LessThan(thresholds[1]).And.LessThan(thresholds[2]));
        const int count = 30;
        for (var c = 0; c < 3; c++)
        {
            var images = session.Generate(count, seed: 9, startIndex: 0, classIndex: c);
            var latents = new float[count * 12];
            session.Sampler.FillBatch(9, 0, count, latents);
            using var z = tensor(latents).reshape(count, 12);
            using var labels = full(count, c, dtype: ScalarType.Int64);
            using var code = Generator.LatentCode(config, z, labels);
            var expectedPairs = latents.Where((_, i) => i % 12 == 0).Select(first => 2L * c + (first > thresholds[c] ? 1 : 0)).ToArray();
            Assert.That(code.data<long>().ToArray(), Is.EqualTo(expectedPairs), $"class {c}'s threshold picks the cluster");
            using (no_grad())
            {
                using var expected = generator.forward(z, labels);
                Assert.That(images.Pixels.ToArray(), Is.EqualTo(expected.data<float>().ToArray()).Within(1e-4), $"the ONNX model draws class {c}'s clusters as torch does");
            }
        }
        using var noLabels = zeros(2, 12);
        Assert.That(() => Generator.LatentCode(config, noLabels), Throws.TypeOf<TrainerException>().With.Message.Contains("labels are required"));
    }

    [Test]
    public void TheCliTrainsClustersWithinClassesAndResumesThem()
    {
        var data = TestData.IdxFolder(count: 64);
        var run = Path.Combine(TestData.NewTempFolder(), "run");
        var (code, output, error) = TestData.RunCli(["train", "--data", data, "--out", run, "--arch", "mlp", "--steps", "2", "--batch-size", "16", "--latent", "16", "--conditional", "--clusters", "2", "--checkpoint-every", "1"]);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("Clustered the images of each of 10 classes into 2 groups"));
        var checkpoint = Checkpoint.Load(Path.Combine(run, "checkpoint.gockpt"));
        Assert.That((checkpoint.Info.Model.ClassClusters, checkpoint.Info.Model.LatentClassPrior!.Length), Is.EqualTo((true, 20)));

        var resumed = Path.Combine(TestData.NewTempFolder(), "resumed");
        (code, output, error) = TestData.RunCli(["train", "--data", data, "--out", resumed, "--arch", "mlp", "--steps", "3", "--batch-size", "16", "--latent", "16", "--conditional", "--clusters", "2", "--resume", Path.Combine(run, "checkpoint.gockpt")]);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Not.Contain("Clustered"), "a resumed run reads its clusters back");
        Assert.That(Checkpoint.Load(Path.Combine(resumed, "checkpoint.gockpt")).Info.Model.LatentClassPrior, Is.EqualTo(checkpoint.Info.Model.LatentClassPrior));
    }
}
