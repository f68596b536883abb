using GanOnnx.Runtime;
using GanOnnx.Trainer.Data;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Tests.Models;

/// <summary>Starting a run from another run's weights (<see cref="TrainingOptions.InitFrom"/>, <c>--init-from</c>).</summary>
public class WarmStartTests
{
    private static readonly ModelConfig Clustered = new()
    {
        Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, DiscriminatorDropout = 0, LatentClasses = 4, Clustered = true,
    };

    /// <summary>Four bar positions, 16 images each; the classes are the left pair and the right pair of positions.</summary>
    private static ImageDataset Pairs()
    {
        var (pixels, positions) = TestData.Bars(64, classes: 4);
        return ImageDataset.FromBytes("bars", pixels, positions.Select(p => (byte)(p / 2)).ToArray(), 64, 1, 28, 28,
            Clustered.ValueRange, ["left", "right"]);
    }

    /// <summary>
    /// Trains <paramref name="source"/> on <paramref name="data"/> for <paramref name="options"/>' steps, then starts a run
    /// of <paramref name="target"/> from it (<see cref="TrainingOptions.InitFrom"/>) for one step at a negligible learning
    /// rate, which leaves the weights as they were loaded: both checkpoints and the warm start's log.
    /// </summary>
    private static (string Source, string Warm, string Log) WarmStarted(ImageDataset data, ModelConfig source, ModelConfig target, TrainingOptions options)
    {
        var folder = TestData.NewTempFolder();
        var from = new GanTrainer(source, options, Path.Combine(folder, "source"), TextWriter.Null).Train(data);
        var log = new StringWriter();
        var warm = new GanTrainer(target, options with { Steps = 1, LearningRateG = 1e-12, LearningRateD = 1e-12, InitFrom = from },
            Path.Combine(folder, "warm"), log).Train(data);
        return (from, warm, log.ToString());
    }

    [Test]
    public void AConditionalRunStartsAsTheSelfConditionedRunItStartsFrom()
    {
        using var data = Pairs();
        var options = new TrainingOptions { Steps = 3, BatchSize = 16, SampleEvery = 0, CheckpointEvery = 0, SampleCount = 4, Seed = 5 };
        // Two clusters within each of the two classes: each (class, cluster) pair is one bar position, and so is each of
        // the source's four clusters.
        var conditional = Clustered with { NumClasses = 2, LatentClasses = 2 };
        var (source, warm, log) = WarmStarted(data, Clustered, conditional, options);
        Assert.That(log, Does.Contain($"Starting from the weights of '{source}' (step 3, bars)")
            .And.Contain("Each of this run's 4 condition rows starts as the source's row (of 4) that most of its images had (100.0 % of the images agree)"));

        var from = Checkpoint.Load(source);
        var to = Checkpoint.Load(warm);
        Assert.That(to.Info.Training.InitFrom, Is.EqualTo(source), "the checkpoint records where the run started");
        var sourceRows = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(from.Sections["clusters"]).ToArray();
        var pairs = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(to.Sections["clusters"]).ToArray();
        var map = Enumerable.Range(0, 4).Select(p => sourceRows[Array.IndexOf(pairs, p)]).ToArray();
        Assert.That(map.Distinct().Count(), Is.EqualTo(4), "each pair is a different position, so a different cluster");

        // Same latents, each pair's image against the source's image of the cluster it maps to (training mode: batch
        // statistics, which depend on the weights alone).
        using var g = to.LoadGenerator(warm);
        using var s = from.LoadGenerator(source);
        g.train();
        s.train();
        manual_seed(9);
        using var z = randn(32, 8);
        using var labels = tensor(Enumerable.Range(0, 32).Select(i => (long)(i % 2)).ToArray());
        using var pair = Generator.LatentCode(g.Config, z, labels);
        using var clusters = tensor(pair.data<long>().ToArray().Select(p => map[p]).ToArray());
        using var _ = no_grad();
        using var mine = g.forward(z, labels);
        using var theirs = s.Body.forward(cat([z, s.LabelEmbedding!.forward(clusters)], 1));
        Assert.That(pair.data<long>().ToArray().Distinct().Count(), Is.EqualTo(4), "the latents ask for every pair");
        Assert.That(mine.sub(theirs).abs().max().item<float>(), Is.LessThan(1e-4f), "the generator draws what the source drew for the mapped cluster");

        using var d = new Discriminator(conditional);
        to.LoadInto(d, "discriminator", warm);
        using var sd = new Discriminator(Clustered);
        from.LoadInto(sd, "discriminator", source);
        d.eval();
        sd.eval();
        using var images = data.Images.narrow(0, 0, 32);
        using var rows = tensor(pairs.Take(32).ToArray());
        using var sourceClusters = tensor(sourceRows.Take(32).ToArray());
        using var scores = d.forward(images, rows);
        using var sourceScores = sd.forward(images, sourceClusters);
        Assert.That(scores.sub(sourceScores).abs().max().item<float>(), Is.LessThan(1e-4f), "the discriminator scores the images as the source did");
    }

    [Test]
    public void ADiscriminatorToldItsConditionAnotherWayStartsWithoutItAndTheLogSaysSo()
    {
        // The source's discriminator reads its clusters as an input plane; this run's, an auxiliary classifier with a
        // projection, is told the (class, cluster) pairs through the projection: that starts at zero, the head fresh.
        using var data = Pairs();
        var options = new TrainingOptions { Steps = 2, BatchSize = 16, SampleEvery = 0, CheckpointEvery = 0, SampleCount = 4, Seed = 5 };
        var conditional = Clustered with { NumClasses = 2, LatentClasses = 2, AuxiliaryClassifier = true, Projection = true };
        var (source, warm, log) = WarmStarted(data, Clustered, conditional, options);
        Assert.That(log, Does.Contain("Each of this run's 4 condition rows starts as the source's row (of 4)")
            .And.Contain("The discriminator's condition starts at zero: the source's read it as a learned input plane, this run's as a projection."));
        using var d = new Discriminator(conditional);
        Checkpoint.Load(warm).LoadInto(d, "discriminator", warm);
        Assert.That(d.state_dict()["projection.weight"].abs().max().item<float>(), Is.LessThan(1e-9f), "the projection starts at zero");

        // The same kind on both sides: nothing to say.
        var plane = Clustered with { NumClasses = 2, LatentClasses = 2 };
        var quiet = new StringWriter();
        new GanTrainer(plane, options with { Steps = 1, InitFrom = source }, Path.Combine(TestData.NewTempFolder(), "plane"), quiet).Train(data);
        Assert.That(quiet.ToString(), Does.Contain("condition rows starts as").And.Not.Contain("The discriminator's condition starts at zero"));
    }

    [Test]
    public void AConditionStartsAtZeroWhenTheSourceHasNone()
    {
        using var data = Pairs();
        var plain = Clustered with { LatentClasses = 0, Clustered = false };
        var options = new TrainingOptions { Steps = 2, BatchSize = 16, SampleEvery = 0, CheckpointEvery = 0, SampleCount = 4 };
        var conditional = plain with { NumClasses = 2 };
        var (source, warm, log) = WarmStarted(data, plain, conditional, options);
        Assert.That(log, Does.Contain("This run's 2 condition rows start at zero (the source has no condition)."));

        // Both classes draw the source's image: the condition is ignored until it is learned.
        using var g = Checkpoint.Load(warm).LoadGenerator(warm);
        using var s = Checkpoint.Load(source).LoadGenerator(source);
        g.train();
        s.train();
        using var z = randn(16, 8);
        using var _ = no_grad();
        using var theirs = s.forward(z);
        foreach (var label in new long[] { 0, 1 })
        {
            using var labels = full(16, label, ScalarType.Int64);
            using var mine = g.forward(z, labels);
            Assert.That(mine.sub(theirs).abs().max().item<float>(), Is.LessThan(1e-4f), $"class {label}");
        }

        // The discriminator's class plane starts with zero weights, so it scores the images as the source did.
        var to = Checkpoint.Load(warm);
        using var d = new Discriminator(conditional);
        to.LoadInto(d, "discriminator", warm);
        using var sd = new Discriminator(plain);
        Checkpoint.Load(source).LoadInto(sd, "discriminator", source);
        d.eval();
        sd.eval();
        using var images = data.Images.narrow(0, 0, 16);
        using var ones = ones_like(data.Labels.narrow(0, 0, 16));
        using var scores = d.forward(images, ones);
        using var sourceScores = sd.forward(images);
        Assert.That(scores.sub(sourceScores).abs().max().item<float>(), Is.LessThan(1e-4f));
    }

    [Test]
    public void TheCliStartsFromAnotherRunAndRefusesOneThatDoesNotFit()
    {
        var data = TestData.IdxFolder(count: 64);
        var folder = TestData.NewTempFolder();
        string[] common = ["train", "--data", data, "--batch-size", "16"];
        string[] model = ["--arch", "mlp", "--latent", "16", "--width", "32"];
        var (code, _, error) = TestData.RunCli([.. common, .. model, "--out", Path.Combine(folder, "source"), "--steps", "2", "--clusters", "4"]);
        Assert.That(code, Is.EqualTo(0), error);
        var source = Path.Combine(folder, "source", "checkpoint.gockpt");

        var run = Path.Combine(folder, "run");
        string output;
        (code, output, error) = TestData.RunCli([.. common, .. model, "--out", run, "--steps", "2", "--conditional", "--init-from", source, "--checkpoint-every", "1"]);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain($"Starting from the weights of '{source}' (step 2, ").And.Contain("Each of this run's 10 condition rows starts as the source's row (of 4)"));

        // A resume takes its weights from its own checkpoint, and says so.
        (code, output, error) = TestData.RunCli([.. common, .. model, "--out", Path.Combine(folder, "resumed"), "--steps", "3", "--conditional", "--init-from", source,
            "--resume", Path.Combine(run, "checkpoint.gockpt")]);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("--init-from is not read: a resumed run takes its weights from the checkpoint it resumes.").And.Not.Contain("Starting from"));

        // Another width, another architecture, a missing file: refused before anything is written.
        foreach (var (args, message) in new (string[], string)[]
        {
            (["--width", "64", "--arch", "mlp", "--latent", "16"], "the generator's 'body.fc1.weight' is 32×"),
            (["--arch", "dcgan", "--latent", "16"], "holds a mlp model; this run builds a dcgan one"),
            (["--latent", "8", "--arch", "mlp", "--width", "32"], "latent size 16; this run's is 8"),
        })
        {
            var target = Path.Combine(folder, "refused-" + args[0].TrimStart('-'));
            (code, _, error) = TestData.RunCli([.. common, .. args, "--out", target, "--steps", "1", "--init-from", source]);
            Assert.That(code, Is.EqualTo(1), string.Join(" ", args));
            Assert.That(error, Does.Contain($"Checkpoint '{source}' (--init-from)").And.Contain(message), string.Join(" ", args));
            Assert.That(Directory.Exists(target), Is.False, "nothing is written");
        }
        var missing = Path.Combine(folder, "missing.gockpt");
        (code, _, error) = TestData.RunCli([.. common, .. model, "--out", Path.Combine(folder, "none"), "--steps", "1", "--init-from", missing]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain($"Checkpoint '{missing}' does not exist."));
    }
}
