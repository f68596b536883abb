using GanOnnx.Trainer.Cli;
using GanOnnx.Runtime;

namespace GanOnnx.Trainer.Tests;

public class TrainerCliTests
{
    private static (int Code, string Output, string Error) Run(params string[] args) => TestData.RunCli(args);

    [Test]
    public void ANewRunIntoAFolderThatHoldsARunIsRefusedAndTheRunIsKept()
    {
        // A forgotten --resume used to start afresh and overwrite the run's checkpoint.
        var data = TestData.IdxFolder(count: 32);
        var run = TestData.NewTempFolder();
        string[] tiny = ["--arch", "mlp", "--width", "8", "--latent", "8", "--batch-size", "16", "--sample-every", "0"];
        var (code, _, error) = Run(["train", "--data", data, "--out", run, "--steps", "2", .. tiny]);
        Assert.That(code, Is.EqualTo(0), error);
        var checkpoint = Path.Combine(run, "checkpoint.gockpt");
        var before = File.ReadAllBytes(checkpoint);

        (code, _, error) = Run(["train", "--data", data, "--out", run, "--steps", "4", .. tiny]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain($"'{run}' already holds a training run ('{checkpoint}'); a new run would overwrite it. Continue it with --resume '{checkpoint}'"));
        Assert.That(File.ReadAllBytes(checkpoint), Is.EqualTo(before));

        (code, _, error) = Run(["train", "--data", data, "--out", run, "--steps", "4", "--resume", checkpoint, .. tiny]);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(Training.Checkpoint.LoadHeader(checkpoint).Step, Is.EqualTo(4));

        var file = Path.Combine(TestData.NewTempFolder(), "a-file");
        File.WriteAllText(file, "x");
        (code, _, error) = Run(["train", "--data", data, "--out", file, "--steps", "2", .. tiny]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain($"The output folder '{file}' is a file; give a folder"));
    }

    [Test]
    public void TheDiscriminatorOptionsReachTheCheckpoint()
    {
        var data = TestData.IdxFolder(count: 32);
        var run = TestData.NewTempFolder();
        var (code, _, error) = Run("train", "--data", data, "--out", run, "--steps", "2", "--batch-size", "16", "--width", "8", "--latent", "16",
            "--spectral-norm", "--latent-classes", "4", "--loss", "hinge", "--minibatch-std", "4");
        Assert.That(code, Is.EqualTo(0), error);
        var model = Training.Checkpoint.Load(Path.Combine(run, "checkpoint.gockpt")).Info.Model;
        Assert.That((model.SpectralNorm, model.LatentClasses, model.MinibatchStdGroup), Is.EqualTo((true, 4, 4)));
    }

    [Test]
    public void TrainThenExportGivesAModelTheRuntimeLoads()
    {
        var data = TestData.IdxFolder(count: 64);
        var run = TestData.NewTempFolder();
        var (code, output, error) = Run("train", "--data", data, "--out", run, "--steps", "3", "--batch-size", "16", "--width", "8", "--latent", "16", "--log-every", "1", "--conditional");
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("step      3/3"));

        var onnx = Path.Combine(run, "model.onnx");
        (code, output, error) = Run("export", "--checkpoint", Path.Combine(run, "checkpoint.gockpt"), "--out", onnx);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("opset 17").And.Contain("z: float[batch, 16]").And.Contain("label: int64[batch]").And.Contain("ganonnx.num_classes = 10"));

        var emaOnnx = Path.Combine(run, "model-ema.onnx");
        (code, output, error) = Run("export", "--checkpoint", Path.Combine(run, "checkpoint.gockpt"), "--out", emaOnnx, "--ema");
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("ganonnx.ema = true"));
        using (var emaSession = GeneratorSession.Load(emaOnnx))
        {
            Assert.That(emaSession.Contract.IsEma, Is.True);
            using var raw = GeneratorSession.Load(onnx);
            Assert.That(emaSession.Generate(2, seed: 1).Pixels, Is.Not.EqualTo(raw.Generate(2, seed: 1).Pixels), "EMA weights differ from the raw weights");
        }

        using var session = GeneratorSession.Load(onnx);
        Assert.That(session.Contract.IsConditional, Is.True);
        Assert.That(session.Contract.TrainingSteps, Is.EqualTo(3));
        Assert.That(session.Generate(4, seed: 1, classIndex: 7).Labels, Is.All.EqualTo(7));
    }

    [Test]
    public void ABadIdxFileFailsWithItsNameAndNonZeroExit()
    {
        var data = TestData.NewTempFolder();
        File.WriteAllBytes(Path.Combine(data, "train-images-idx3-ubyte"), [1, 2, 3, 4, 5, 6, 7, 8]);
        File.WriteAllBytes(Path.Combine(data, "train-labels-idx1-ubyte"), [0, 0, 8, 1, 0, 0, 0, 0]);
        var (code, _, error) = Run("train", "--data", data, "--out", TestData.NewTempFolder(), "--steps", "1");
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("train-images-idx3-ubyte").And.Contain("magic number"));
    }

    [TestCase("--arch", "transformer", "Unknown architecture")]
    [TestCase("--steps", "0", "--steps")]
    [TestCase("--ema-rampup", "2", "--ema-rampup is 2; it must be between 0 (off) and 1")]
    [TestCase("--clusters", "1", "--clusters is 1; it needs at least 2")]
    [TestCase("--optimizer", "sgd", "--optimizer")]
    [TestCase("--device", "tpu", "--device is 'tpu'; choose cpu, cuda or cuda:N")]
    [TestCase("--device", "cuda:x", "the GPU index after 'cuda:' must be a number")]
    [TestCase("--device", "cuda:", "the GPU index after 'cuda:' must be a number")]
    public void BadOptionsFailNamingTheOption(string option, string value, string expected)
    {
        var (code, _, error) = Run("train", "--data", TestData.IdxFolder(count: 16), "--out", TestData.NewTempFolder(), option, value);
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain(expected));
    }

    [Test]
    public void CudaWithoutACudaLibtorchSaysHowToGetOneAndWritesNothing()
    {
        // This build carries the CPU libtorch (TorchBackend=Cpu), so CUDA is never available to it.
        var run = Path.Combine(TestData.NewTempFolder(), "run");
        var (code, _, error) = Run("train", "--data", TestData.IdxFolder(count: 16), "--out", run, "--steps", "1", "--device", "cuda");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--device cuda").And.Contain("-p:TorchBackend=Cuda").And.Contain("--device cpu"));
        Assert.That(Directory.Exists(run), Is.False, "nothing is written before the device is known to work");
    }

    [TestCase("--stepz 4", "error: '--stepz' is not an option of 'ganonnx-train train'; did you mean --steps?")]
    [TestCase("--lr-g 0,0002", "error: --lr-g is '0,0002'; write decimals with '.' (e.g. 0.0002)")]
    [TestCase("--lr-d 2e-4x", "error: --lr-d is '2e-4x'; it must be a number (with '.' for decimals).")]
    [TestCase("--batch-size 1,000", "error: --batch-size is '1,000'; it must be a whole number.")]
    public void AMisspeltOrMisformedFlagIsNamedAndNothingIsWritten(string options, string expected)
    {
        // Without the comma check, --lr-g 0,0002 would train at a learning rate of 2 (the comma read as a thousands separator).
        var error = TestData.RefusedTraining(options);
        Assert.That(error, Does.Contain(expected));
        Assert.That(error, Does.Contain("Run 'ganonnx-train train --help' for the options."));
    }

    [TestCase("0")]
    [TestCase("1")]
    public void EvalRefusesTooFewImagesByItsOwnFlag(string count)
    {
        // 0 ended in an unhandled "System.ArgumentException: tensors" with a stack trace; 1 was named as train's --eval-count.
        var model = Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-dcgan", "model.onnx");
        var (code, output, error) = Run("eval", "--data", TestData.IdxFolder(count: 16), "--model", model, "--count", count);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain($"error: --count is {count}; the Fréchet distance needs at least 2 images"));
        Assert.That(error, Does.Not.Contain("   at "), "no stack trace");
        Assert.That(output, Is.Empty, "refused before the classifier is loaded or trained");
    }

    [Test]
    public void AFlagThatIsPartOfAnotherIsSuggested()
    {
        var (code, _, error) = Run("data", "--out", TestData.NewTempFolder(), "--background", "red");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("error: '--background' is not an option of 'ganonnx-train data'; did you mean --emoji-background?"));
    }

    [Test]
    public void AnUnknownFlagAmongACommandsArgumentsIsNamedAsAFlag()
    {
        // average takes its checkpoints as arguments, so the parser hands "--checkpoints" and "--outt" over as checkpoints.
        var out_ = Path.Combine(TestData.NewTempFolder(), "avg.gockpt");
        var (code, _, error) = Run("average", "--checkpoints", "a.gockpt", "b.gockpt", "--out", out_);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("error: '--checkpoints' is not an option of 'ganonnx-train average'; its checkpoints are given without a flag."));
        Assert.That(error, Does.Not.Contain("does not exist"));

        (code, _, error) = Run("average", "a.gockpt", "b.gockpt", "--outt", out_);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("error: '--outt' is not an option of 'ganonnx-train average'; did you mean --out?"));
        Assert.That(File.Exists(out_), Is.False);
    }

    [Test]
    public void ACheckpointFolderIsAnsweredWithItsCheckpoints()
    {
        var run = TestData.NewTempFolder();
        var kept = Directory.CreateDirectory(Path.Combine(run, "checkpoints")).FullName;
        foreach (var step in new[] { "step-000100", "step-000200", "step-000300", "step-000400" })
            File.WriteAllBytes(Path.Combine(kept, step + ".gockpt"), [1]);
        var out_ = Path.Combine(TestData.NewTempFolder(), "m.onnx");
        var (code, _, error) = Run("export", "--checkpoint", kept, "--out", out_);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain($"Checkpoint '{kept}' is a folder; give one of its 4 .gockpt files, '{Path.Combine(kept, "step-000100.gockpt")}' … '{Path.Combine(kept, "step-000400.gockpt")}'."));
        Assert.That(File.Exists(out_), Is.False);
    }

    [Test]
    public void ExportOfAMissingCheckpointFails()
    {
        var out_ = Path.Combine(TestData.NewTempFolder(), "m.onnx");
        var (code, _, error) = Run("export", "--checkpoint", "/nonexistent.gockpt", "--out", out_);
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("does not exist"));
        Assert.That(File.Exists(out_), Is.False);
    }

    [Test]
    public void BenchTrainReportsStepsPerSecondAndMemory()
    {
        var (code, output, error) = Run("bench-train", "--steps", "2", "--batch-size", "8", "--models", "mlp 28×28", "--memory-steps", "2,4");
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("mlp 28×28").And.Contain("steps/s").And.Contain("after       2 steps").And.Contain("after       4 steps"));
        var (bad, _, badError) = Run("bench-train", "--models", "resnet");
        Assert.That(bad, Is.Not.EqualTo(0));
        Assert.That(badError, Does.Contain("Unknown model 'resnet'"));
    }

    [Test]
    public void ExportToAFolderNameIsRefusedNamingIt()
    {
        // It used to say "Could not find a part of the path" (a trailing slash) or "Is a directory".
        var checkpoint = Directory.GetFiles(TestData.TrainTinyMlp(steps: 2), "*.gockpt", SearchOption.AllDirectories).First();
        int code;
        string error;
        var folder = TestData.NewTempFolder();
        foreach (var target in new[] { folder, folder + Path.DirectorySeparatorChar, Path.Combine(folder, "new") + Path.DirectorySeparatorChar })
        {
            (code, _, error) = Run("export", "--checkpoint", checkpoint, "--out", target);
            Assert.That(code, Is.EqualTo(1), target);
            Assert.That(error, Does.Contain($"error: '{target}' is a folder; give the name of the file to write."));
        }
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty, "nothing written, no folder made");
    }

    [TestCase("--memory-steps 100,x", "--memory-steps is '100,x'; it must be a comma-separated list of whole numbers of at least 1.")]
    [TestCase("--memory-model gpt", "Unknown --memory-model 'gpt'; choose from: mlp 28×28")]
    [TestCase("--batch-size 0", "--batch-size is 0; it must be at least 1.")]
    public void BenchTrainRefusesABadFlagBeforeTimingAnything(string options, string expected)
    {
        // --memory-steps used to be read only after every preset had been timed (minutes).
        var (code, output, error) = Run(["bench-train", "--models", "mlp 28×28", "--steps", "1", .. options.Split(' ')]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain(expected));
        Assert.That(output, Is.Empty, "nothing was timed");
    }

    [TestCase("0")]
    [TestCase("1,100000")]
    [TestCase("64,x")]
    public void BenchRefusesBatchSizesOutsideTheRuntimesRangeByTheFlag(string sizes)
    {
        // 100,000 used to fail as "MaxBatchSize is 100000" once the model had been exported and the first size timed.
        var (code, output, error) = Run("bench", "--checkpoint", Path.Combine(TestData.NewTempFolder(), "none.gockpt"), "--batch-sizes", sizes);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain($"--batch-sizes is '{sizes}'; it must be a comma-separated list of whole numbers from 1 to 65536."));
        Assert.That(output, Is.Empty);
    }

    [Test]
    public void TheLibrarysPropertyNamesBecomeThisCommandLinesFlags()
    {
        Assert.That(TrainerCli.WithFlags("TrainingOptions.LearningRateDecayAt 0 → 500, TrainingOptions.LearningRateDecay 0.5 → 0.25"),
            Is.EqualTo("--lr-decay-at 0 → 500, --lr-decay 0.5 → 0.25"), "a longer name is never cut by a shorter one");
        Assert.That(TrainerCli.WithFlags("ModelConfig.LatentClasses (clustered) is 1; ModelConfig.LatentClasses is 3"), Is.EqualTo("--clusters is 1; --latent-classes is 3"));
        var log = new StringWriter();
        using (var writer = new FlagsWriter(log))
        {
            writer.Write("Resuming with changed training settings: TrainingOptions.LearningRateG ");
            writer.WriteLine("0.0002 → 0.0001.");
            writer.Write("no newline TrainingOptions.Beta1");
            writer.Flush();
        }
        Assert.That(log.ToString(), Is.EqualTo("Resuming with changed training settings: --lr-g 0.0002 → 0.0001." + Environment.NewLine + "no newline --beta1"));
    }
}
