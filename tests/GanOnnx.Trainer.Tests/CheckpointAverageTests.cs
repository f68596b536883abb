using GanOnnx.Trainer.Training;
using TorchSharp.Modules;

namespace GanOnnx.Trainer.Tests;

/// <summary><c>ganonnx-train average</c>: a generator's weights averaged over checkpoints of one run.</summary>
public class CheckpointAverageTests
{
    private static string Kept(string run, int step) => Path.Combine(run, "checkpoints", $"step-{step:D6}.gockpt");

    /// <summary>A tiny run that keeps a checkpoint every step.</summary>
    private static string KeptRun(string arch, int steps = 3, int width = 8, string? data = null, params string[] more)
    {
        var run = TestData.NewTempFolder();
        var (code, _, error) = TestData.RunCli(["train", "--data", data ?? TestData.IdxFolder(count: 64), "--out", run, "--arch", arch, "--width", width.ToString(System.Globalization.CultureInfo.InvariantCulture), "--latent", "16",
            "--batch-size", "16", "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture), "--checkpoint-every", "1", "--keep-checkpoints",
            "--sample-every", "0", "--threads", "1", .. more]);
        Assert.That(code, Is.EqualTo(0), error);
        return run;
    }

    [Test]
    public void TheAverageOfThreeCheckpointsIsTheMeanOfTheirWeightsAndKeepsTheLatestHeader()
    {
        var run = KeptRun("mlp");
        var paths = new[] { Kept(run, 3), Kept(run, 1), Kept(run, 2) }; // any order
        var averaged = CheckpointAverage.Average(paths, "generator_ema");
        var outPath = Path.Combine(run, "average.gockpt");
        averaged.Save(outPath);

        var inputs = paths.Select(p => TestData.GeneratorWeights(p, "generator_ema")).ToArray();
        var mean = Enumerable.Range(0, inputs[0].Length).Select(i => inputs.Average(w => (double)w[i])).ToArray();
        var result = TestData.GeneratorWeights(outPath, "generator_ema");
        Assert.That(inputs[0], Is.Not.EqualTo(inputs[1]), "the steps differ, so the test can tell a mean from a copy");
        Assert.That(result.Select(v => (double)v), Is.EqualTo(mean).Within(1e-6));

        var saved = Checkpoint.Load(outPath);
        Assert.That(saved.Info.Step, Is.EqualTo(3));
        Assert.That(saved.Info.Extra["averaged_from"], Is.EqualTo("steps 1, 2, 3 (3 checkpoints)"));
        Assert.That(saved.Info.Extra["averaged_section"], Is.EqualTo("generator_ema"));
        Assert.That(saved.Sections.Keys, Is.EquivalentTo(new[] { "generator_ema" }), "the averaged generator only: nothing to resume from");
    }

    [Test]
    public void TheAveragesBatchNormStatisticsAreItsOwn()
    {
        var run = KeptRun("dcgan", steps: 2);
        var averaged = CheckpointAverage.Average([Kept(run, 1), Kept(run, 2)], "generator");
        var outPath = Path.Combine(run, "average.gockpt");
        averaged.Save(outPath);

        using var fromFile = Checkpoint.Load(outPath).LoadGenerator(outPath);
        using var recomputed = Checkpoint.Load(outPath).LoadGenerator(outPath);
        using var last = Checkpoint.Load(Kept(run, 2)).LoadGenerator(Kept(run, 2));
        BatchNormCalibration.Recalibrate(recomputed, seed: 1);
        static float[] Means(TorchSharp.torch.nn.Module g) => g.modules().OfType<NormBase>().SelectMany(n => n.running_mean!.data<float>().ToArray()).ToArray();
        Assert.That(Means(fromFile), Is.EqualTo(Means(recomputed)).Within(1e-5), "the statistics of the averaged weights, recomputed (the run's seed, 1)");
        Assert.That(Means(fromFile), Is.Not.EqualTo(Means(last)).Within(1e-5), "not those of the last checkpoint's generator");
    }

    [Test]
    public void TheCommandLineWritesACheckpointThatExportsAndEvaluatesButIsNotResumed()
    {
        var data = TestData.IdxFolder(count: 64, testCount: 40);
        var run = KeptRun("mlp");
        var averaged = Path.Combine(run, "average.gockpt");

        var (code, output, error) = TestData.RunCli(["average", Kept(run, 2), Kept(run, 3), "--ema", "--out", averaged]);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("'generator_ema' weights averaged over steps 2, 3 (2 checkpoints)"));

        var onnx = Path.Combine(run, "average.onnx");
        (code, _, error) = TestData.RunCli(["export", "--checkpoint", averaged, "--ema", "--out", onnx]);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(new FileInfo(onnx).Length, Is.GreaterThan(1000));
        (code, output, error) = TestData.RunCli(["eval", "--data", data, "--checkpoint", averaged, "--ema", "--count", "40"]);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("Fréchet distance"));

        (code, _, error) = TestData.RunCli(["export", "--checkpoint", averaged, "--out", Path.Combine(run, "raw.onnx")]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("has no 'generator' section"));
        (code, _, error) = TestData.RunCli(["train", "--data", data, "--out", run, "--arch", "mlp", "--width", "8", "--latent", "16", "--batch-size", "16", "--steps", "5", "--resume", averaged]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("is a generator averaged over steps 2, 3 (2 checkpoints)").And.Contain("resume from one of the checkpoints it was made from"));
    }

    [Test]
    public void CheckpointsOfDifferentRunsOrModelsAreRefusedByName()
    {
        var data = TestData.IdxFolder(count: 64);
        var run = KeptRun("mlp", steps: 2, data: data);
        var otherSeed = KeptRun("mlp", steps: 2, data: data, more: ["--seed", "5"]);
        var wider = KeptRun("mlp", steps: 1, width: 12, data: data, more: ["--d-width", "8"]);
        var otherData = KeptRun("mlp", steps: 1);

        Assert.That(() => CheckpointAverage.Average([Kept(run, 1), Kept(otherSeed, 2)], "generator"), Throws.TypeOf<TrainerException>()
            .With.Message.Contains("seed 5").And.Message.Contains("seed 1").And.Message.Contains("average checkpoints of one run"));
        Assert.That(() => CheckpointAverage.Average([Kept(run, 2), Kept(wider, 1)], "generator"), Throws.TypeOf<TrainerException>()
            .With.Message.Contains($"width 12 in '{Kept(wider, 1)}'").And.Message.Contains($"width 8 in '{Kept(run, 2)}'"));
        Assert.That(() => CheckpointAverage.Average([Kept(run, 2), Kept(otherData, 1)], "generator"), Throws.TypeOf<TrainerException>()
            .With.Message.Contains($"'{Kept(otherData, 1)}' was trained on").And.Message.Contains($"'{Kept(run, 2)}' on '{Path.GetFileName(data)}'"));
        Assert.That(() => CheckpointAverage.Average([Kept(run, 2)], "generator"), Throws.TypeOf<TrainerException>().With.Message.Contains("at least two checkpoints"));
        Assert.That(() => CheckpointAverage.Average([Kept(run, 2), Kept(run, 2)], "generator"), Throws.TypeOf<TrainerException>().With.Message.Contains("more than once"));
        Assert.That(() => CheckpointAverage.Average([Kept(run, 2), Path.Combine(run, "checkpoint.gockpt")], "generator"), Throws.TypeOf<TrainerException>()
            .With.Message.Contains("are both at step 2"));
        Assert.That(() => CheckpointAverage.Average([Kept(run, 1), Kept(run, 2)], "discriminator"), Throws.TypeOf<TrainerException>().With.Message.Contains("is not a generator"));

        var (code, _, error) = TestData.RunCli(["average", Kept(run, 1), Path.Combine(run, "missing.gockpt"), "--out", Path.Combine(run, "x.gockpt")]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("missing.gockpt' does not exist"));
        Assert.That(File.Exists(Path.Combine(run, "x.gockpt")), Is.False);
    }

    [Test]
    public void ARunWhoseGeneratorDrewClassesFromTheDataNeedsTheData()
    {
        var data = TestData.IdxFolder(count: 64);
        var run = KeptRun("dcgan", 2, more: ["--conditional", "--g-classes", "data"]);
        Assert.That(() => CheckpointAverage.Average([Kept(run, 1), Kept(run, 2)], "generator"), Throws.TypeOf<TrainerException>()
            .With.Message.Contains("TrainingOptions.GeneratorClassesFromData"));
        var (code, _, error) = TestData.RunCli(["average", Kept(run, 1), Kept(run, 2), "--out", Path.Combine(run, "a.gockpt")]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--g-classes"));
        (code, _, error) = TestData.RunCli(["average", Kept(run, 1), Kept(run, 2), "--data", data, "--out", Path.Combine(run, "a.gockpt")]);
        Assert.That(code, Is.EqualTo(0), error);
    }
}
