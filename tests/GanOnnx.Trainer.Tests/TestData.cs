using GanOnnx.Runtime;
using GanOnnx.Trainer.Data;

namespace GanOnnx.Trainer.Tests;

internal static class TestData
{
    /// <summary>Every weight of a checkpoint's generator (or its EMA, with section "generator_ema"), flattened.</summary>
    public static float[] GeneratorWeights(string checkpointPath, string section = "generator")
    {
        using var g = GanOnnx.Trainer.Training.Checkpoint.Load(checkpointPath).LoadGenerator(checkpointPath, section);
        return g.parameters().SelectMany(p => p.detach().contiguous().data<float>().ToArray()).ToArray();
    }

    /// <summary>Every weight of a checkpoint's discriminator, flattened.</summary>
    public static float[] DiscriminatorWeights(string checkpointPath)
    {
        var checkpoint = GanOnnx.Trainer.Training.Checkpoint.Load(checkpointPath);
        using var d = new GanOnnx.Trainer.Models.Discriminator(checkpoint.Info.Model);
        checkpoint.LoadInto(d, "discriminator", checkpointPath);
        return d.parameters().SelectMany(p => p.detach().contiguous().data<float>().ToArray()).ToArray();
    }

    /// <summary>
    /// Trains <paramref name="model"/> for <paramref name="options"/>' steps straight through, and again in two halves (the
    /// second resumed from the first's checkpoint), each in a new folder; asserts that both end with the same finite
    /// discriminator weights, and returns the checkpoints of the straight run and of the first half (to resume with a
    /// changed setting, which must be refused).
    /// </summary>
    public static (string Straight, string Halfway) AssertResumeIsExact(
        GanOnnx.Trainer.Models.ModelConfig model, ImageDataset data, GanOnnx.Trainer.Training.TrainingOptions options)
    {
        var straight = new GanOnnx.Trainer.Training.GanTrainer(model, options, NewTempFolder(), TextWriter.Null).Train(data);
        var halfway = new GanOnnx.Trainer.Training.GanTrainer(model, options with { Steps = options.Steps / 2 }, NewTempFolder(), TextWriter.Null).Train(data);
        var resumed = new GanOnnx.Trainer.Training.GanTrainer(model, options, NewTempFolder(), TextWriter.Null).Train(data, resumeFrom: halfway);
        var expected = DiscriminatorWeights(straight);
        Assert.That(expected.All(float.IsFinite), Is.True, "the straight run's discriminator weights are finite");
        Assert.That(DiscriminatorWeights(resumed), Is.EqualTo(expected), "the resumed run ends where the straight one does");
        return (straight, halfway);
    }

    public static string NewTempFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "ganonnx-trainer-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Synthetic "digits": class c is a bright vertical bar, two columns wide, at column 3c·size/30, with a little noise.</summary>
    public static (byte[] Pixels, byte[] Labels) Bars(int count, int size = 28, int classes = 10, int seed = 1)
    {
        var rng = new Random(seed);
        var pixels = new byte[count * size * size];
        var labels = new byte[count];
        for (var i = 0; i < count; i++)
        {
            var c = i % classes;
            labels[i] = (byte)c;
            for (var y = 0; y < size; y++)
                for (var x = 0; x < size; x++)
                {
                    var column = 3 * c * size / 30;
                    var on = (x == column || x == column + 1) && y > 3 && y < size - 3;
                    pixels[i * size * size + y * size + x] = (byte)(on ? 200 + rng.Next(56) : rng.Next(20));
                }
        }
        return (pixels, labels);
    }

    /// <summary>Writes a synthetic IDX folder (gzip; with a t10k split of <paramref name="testCount"/> images when positive) and returns its path.</summary>
    public static string IdxFolder(int count = 256, int size = 28, int testCount = 0)
    {
        var folder = NewTempFolder();
        var (pixels, labels) = Bars(count, size);
        IdxFile.WriteImages(Path.Combine(folder, "train-images-idx3-ubyte.gz"), pixels, count, size, size);
        IdxFile.WriteLabels(Path.Combine(folder, "train-labels-idx1-ubyte.gz"), labels);
        if (testCount > 0)
        {
            var (testPixels, testLabels) = Bars(testCount, size, seed: 2);
            IdxFile.WriteImages(Path.Combine(folder, "t10k-images-idx3-ubyte.gz"), testPixels, testCount, size, size);
            IdxFile.WriteLabels(Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"), testLabels);
        }
        return folder;
    }

    public static ImageDataset Dataset(int count, int size, int channels, ValueRange range, int classes = 10)
    {
        var (gray, labels) = Bars(count, size, classes);
        var pixels = channels == 1 ? gray : gray.Chunk(size * size).SelectMany(img => img.Concat(img.Reverse()).Concat(img)).ToArray();
        return ImageDataset.FromBytes("bars", pixels, labels, count, channels, size, size, range);
    }

    /// <summary>
    /// Runs <c>ganonnx-train train</c> on <paramref name="count"/> bar images with two steps and <paramref name="options"/>
    /// (space-separated), asserts that it fails without creating its output folder, and returns what it wrote to stderr.
    /// </summary>
    public static string RefusedTraining(string options, int count = 32)
    {
        var data = IdxFolder(count);
        var run = Path.Combine(NewTempFolder(), "run");
        var (code, _, error) = RunCli(["train", "--data", data, "--out", run, "--steps", "2", .. options.Split(' ')]);
        Assert.That(code, Is.Not.EqualTo(0), "exit code");
        Assert.That(Directory.Exists(run), Is.False, "nothing is written");
        return error;
    }

    /// <summary>Runs <c>ganonnx-train</c> in this process and returns its exit code, output and error output.</summary>
    public static (int Code, string Output, string Error) RunCli(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = Trainer.Cli.TrainerCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Trains a width-8 MLP GAN on 32 bar images for <paramref name="steps"/> steps (batch 8, a log line per step,
    /// no sample grids) and returns its run folder.</summary>
    public static string TrainTinyMlp(int steps)
    {
        var model = new Trainer.Models.ModelConfig { Architecture = Trainer.Models.GanArchitecture.Mlp, Width = 8, LatentDim = 8 };
        using var data = Dataset(32, 28, 1, model.ValueRange);
        var folder = NewTempFolder();
        new Trainer.Training.GanTrainer(model, new Trainer.Training.TrainingOptions { Steps = steps, BatchSize = 8, LogEvery = 1, SampleEvery = 0 }, folder, TextWriter.Null).Train(data);
        return folder;
    }
}
