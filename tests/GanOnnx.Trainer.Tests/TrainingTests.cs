using System.Text.Json;
using GanOnnx.Runtime;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Onnx;
using GanOnnx.Trainer.Training;

namespace GanOnnx.Trainer.Tests;

public class TrainingTests
{
    [TestCase(GanArchitecture.Mlp, 0)]
    [TestCase(GanArchitecture.KerasDcgan, 0)]
    [TestCase(GanArchitecture.Dcgan, 10)]
    public void AShortRunWritesACheckpointSamplesAndMetrics(GanArchitecture architecture, int classes)
    {
        var model = new ModelConfig { Architecture = architecture, Width = 8, LatentDim = 16, NumClasses = classes };
        using var data = TestData.Dataset(64, 28, 1, model.ValueRange);
        var folder = TestData.NewTempFolder();
        var options = new TrainingOptions { Steps = 4, BatchSize = 16, LogEvery = 2, SampleEvery = 2, CheckpointEvery = 0, SampleCount = 9 };
        var log = new StringWriter();
        var checkpointPath = new GanTrainer(model, options, folder, log).Train(data);

        Assert.That(File.Exists(checkpointPath), Is.True);
        Assert.That(File.Exists(Path.Combine(folder, "samples.png")), Is.True);
        Assert.That(File.Exists(Path.Combine(folder, "samples", "step-000002.png")), Is.True);
        var lines = File.ReadAllLines(Path.Combine(folder, "metrics.jsonl"));
        Assert.That(lines, Has.Length.EqualTo(2));
        var last = JsonSerializer.Deserialize<StepMetrics>(lines[^1])!;
        Assert.That(last.Step, Is.EqualTo(4));
        Assert.That(float.IsFinite(last.LossD) && float.IsFinite(last.LossG), Is.True);
        Assert.That(log.ToString(), Does.Contain("step      4/4").And.Contain("steps/s").And.Contain("left"));

        var checkpoint = Checkpoint.Load(checkpointPath);
        Assert.That(checkpoint.Info.Step, Is.EqualTo(4));
        Assert.That(checkpoint.Info.Model, Is.EqualTo(model));
        Assert.That(checkpoint.Sections.Keys, Is.EquivalentTo(new[] { "generator", "generator_ema", "discriminator", "optimizer_g", "optimizer_d", "data_order", "rng_torch" }));
    }

    [Test]
    public void TheTrainingPreviewShowsTheImagesTheRuntimeMakesFromTheExportedModel()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 16 };
        using var data = TestData.Dataset(64, 28, 1, model.ValueRange);
        var folder = TestData.NewTempFolder();
        var path = new GanTrainer(model, new TrainingOptions { Steps = 3, BatchSize = 16, SampleEvery = 0 }, folder, TextWriter.Null).Train(data);
        var checkpoint = Checkpoint.Load(path);
        using var generator = checkpoint.LoadGenerator(path);
        var onnxPath = Path.Combine(folder, "g.onnx");
        OnnxExporter.Export(generator, new ExportOptions(), onnxPath);
        var preview = SampleGrid.Generate(generator, seed: 42, count: 6);
        using var session = GeneratorSession.Load(onnxPath);
        var runtime = session.Generate(6, seed: 42);
        var maxDiff = preview.Pixels.Zip(runtime.Pixels, (a, b) => Math.Abs(a - b)).Max();
        Assert.That(maxDiff, Is.LessThanOrEqualTo(1e-4f));
        var otherSeed = session.Generate(6, seed: 43);
        Assert.That(preview.Pixels.Zip(otherSeed.Pixels, (a, b) => Math.Abs(a - b)).Max(), Is.GreaterThan(1e-2f), "another seed gives other images");
    }

    [Test]
    public void AConditionalModelsSampleGridHasAColumnPerClass()
    {
        using var generator = new GanOnnx.Trainer.Models.Generator(new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 16, NumClasses = 3 });
        var path = Path.Combine(TestData.NewTempFolder(), "grid.png");
        SampleGrid.Save(generator, seed: 42, count: 4, path);
        using var grid = SkiaSharp.SKBitmap.Decode(path);
        Assert.That((grid.Width, grid.Height), Is.EqualTo((3 * 28 + 4 * 2, 2 * 28 + 3 * 2)), "4 images round up to 2 rows of the 3 classes");

        using var unconditional = new GanOnnx.Trainer.Models.Generator(new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 16 });
        SampleGrid.Save(unconditional, seed: 42, count: 4, path);
        using var plain = SkiaSharp.SKBitmap.Decode(path);
        Assert.That((plain.Width, plain.Height), Is.EqualTo((2 * 28 + 3 * 2, 2 * 28 + 3 * 2)), "4 images in the square default layout");
    }

    [Test]
    public void TheGeneratorsStepAsksForClassesUniformlyOrInTheDatasProportions()
    {
        // 90 % of the images are class 0, 10 % class 3, of four classes.
        using var labels = TorchSharp.torch.tensor(Enumerable.Range(0, 1000).Select(i => i % 10 == 0 ? 3L : 0L).ToArray());
        TorchSharp.torch.manual_seed(3);
        using var uniform = GanTrainer.GeneratorClasses(labels, 4, fromData: false, 20000, TorchSharp.torch.CPU);
        using var fromData = GanTrainer.GeneratorClasses(labels, 4, fromData: true, 20000, TorchSharp.torch.CPU);
        double[] Shares(TorchSharp.torch.Tensor t) => t.bincount(null, 4).data<long>().ToArray().Select(c => c / 20000.0).ToArray();
        Assert.That(Shares(uniform), Is.EqualTo(new[] { 0.25, 0.25, 0.25, 0.25 }).Within(0.015));
        Assert.That(Shares(fromData), Is.EqualTo(new[] { 0.9, 0, 0, 0.1 }).Within(0.015));

        // The option is for conditional models, and a run with it trains.
        Assert.That(TestData.RefusedTraining("--width 8 --g-classes data"), Does.Contain("--g-classes is for conditional models (--conditional)"));
        Assert.That(TestData.RefusedTraining("--width 8 --conditional --g-classes most"), Does.Contain("--g-classes is 'most'; choose uniform or data"));
        var run = Path.Combine(TestData.NewTempFolder(), "run");
        var (code, output, error) = TestData.RunCli(["train", "--data", TestData.IdxFolder(32), "--out", run, "--arch", "mlp", "--steps", "2", "--batch-size", "8", "--conditional", "--g-classes", "data"]);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("generator classes in the data's proportions"));
        Assert.That(Checkpoint.Load(Path.Combine(run, "checkpoint.gockpt")).Info.Training.GeneratorClassesFromData, Is.True);
    }

    [Test]
    public void ACorruptOrTruncatedCheckpointIsRefused()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 8, LatentDim = 8 };
        using var data = TestData.Dataset(32, 28, 1, model.ValueRange);
        var folder = TestData.NewTempFolder();
        var path = new GanTrainer(model, new TrainingOptions { Steps = 1, BatchSize = 8, SampleEvery = 0 }, folder, TextWriter.Null).Train(data);
        var bytes = File.ReadAllBytes(path);

        var truncated = Path.Combine(folder, "truncated.gockpt");
        File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        Assert.That(() => Checkpoint.Load(truncated), Throws.TypeOf<TrainerException>().With.Message.Contains("truncated"));

        var garbage = Path.Combine(folder, "garbage.gockpt");
        File.WriteAllText(garbage, "hello");
        Assert.That(() => Checkpoint.Load(garbage), Throws.TypeOf<TrainerException>().With.Message.Contains("not a GanOnnx checkpoint"));
    }

    [Test]
    public void AByteChangedInAnySectionOrInTheHeaderIsRefusedNamingIt()
    {
        var folder = TestData.TrainTinyMlp(2);
        var path = Path.Combine(folder, "checkpoint.gockpt");
        var bytes = File.ReadAllBytes(path);
        var sections = new List<(string Name, long Offset, long Length)>();
        long headerOffset, headerLength;
        using (var reader = new BinaryReader(new MemoryStream(bytes)))
        {
            reader.ReadBytes(12);
            Assert.That(reader.ReadInt32(), Is.EqualTo(2), "format version");
            headerLength = reader.ReadInt32();
            headerOffset = reader.BaseStream.Position;
            reader.ReadBytes((int)headerLength + 32);
            while (reader.BaseStream.Position < bytes.Length)
            {
                var name = reader.ReadString();
                var length = reader.ReadInt64();
                sections.Add((name, reader.BaseStream.Position, length));
                reader.BaseStream.Position += length;
            }
        }
        Assert.That(sections.Select(s => s.Name), Is.SupersetOf(new[] { "generator", "generator_ema", "discriminator", "optimizer_g", "optimizer_d", "data_order", "rng_torch" }));
        foreach (var (name, offset, length) in sections)
        {
            var damaged = Path.Combine(folder, $"damaged-{name}.gockpt");
            var copy = (byte[])bytes.Clone();
            copy[offset + length / 2] ^= 0x10;
            File.WriteAllBytes(damaged, copy);
            Assert.That(() => Checkpoint.Load(damaged), Throws.TypeOf<TrainerException>().With.Message.Contains($"section '{name}' does not match its checksum"), name);
        }
        var header = (byte[])bytes.Clone();
        header[headerOffset + headerLength / 2] ^= 0x01;
        File.WriteAllBytes(Path.Combine(folder, "damaged-header.gockpt"), header);
        Assert.That(() => Checkpoint.Load(Path.Combine(folder, "damaged-header.gockpt")), Throws.TypeOf<TrainerException>().With.Message.Contains("header does not match its checksum"));

        // The command line refuses it too, with exit code 1 and no stack trace.
        var (code, _, error) = TestData.RunCli("export", "--checkpoint", Path.Combine(folder, "damaged-optimizer_d.gockpt"), "--out", Path.Combine(folder, "x.onnx"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("section 'optimizer_d'").And.Not.Contain("   at "));
        Assert.That(File.Exists(Path.Combine(folder, "x.onnx")), Is.False);
    }

    [Test]
    public void TheHeaderAloneIsReadWithoutTheSectionsAndCheckedAsFully()
    {
        var folder = TestData.TrainTinyMlp(2);
        var path = Path.Combine(folder, "checkpoint.gockpt");
        var full = Checkpoint.Load(path).Info;
        var header = Checkpoint.LoadHeader(path);
        Assert.That(header.Step, Is.EqualTo(full.Step));
        Assert.That(header.Model, Is.EqualTo(full.Model));
        Assert.That(header.Sections.Keys, Is.EquivalentTo(full.Sections.Keys));

        // Cut after the header's checksum: the sections are gone, so only a full load notices.
        var bytes = File.ReadAllBytes(path);
        var headerLength = BitConverter.ToInt32(bytes, 16);
        var cut = Path.Combine(folder, "header-only.gockpt");
        File.WriteAllBytes(cut, bytes.AsSpan(0, 20 + headerLength + 32).ToArray());
        Assert.That(Checkpoint.LoadHeader(cut).Step, Is.EqualTo(full.Step));
        Assert.That(() => Checkpoint.Load(cut), Throws.TypeOf<TrainerException>().With.Message.Contains("truncated"));

        // A changed header byte and a file that is no checkpoint are refused as by a full load.
        var damaged = (byte[])bytes.Clone();
        damaged[20 + headerLength / 2] ^= 0x01;
        File.WriteAllBytes(cut, damaged);
        Assert.That(() => Checkpoint.LoadHeader(cut), Throws.TypeOf<TrainerException>().With.Message.Contains("header does not match its checksum"));
        File.WriteAllText(cut, "hello");
        Assert.That(() => Checkpoint.LoadHeader(cut), Throws.TypeOf<TrainerException>().With.Message.Contains("not a GanOnnx checkpoint"));
    }

    [Test]
    public void ASizeTheArchitectureCannotMakeIsRefusedListingSizesThatWork()
    {
        Assert.That(() => new ModelConfig { Architecture = GanArchitecture.Dcgan, ImageSize = 30 }.Validate(),
            Throws.TypeOf<TrainerException>().With.Message.Contains("cannot make 30×30").And.Message.Contains("28").And.Message.Contains("64"));
        Assert.That(() => new ModelConfig { Architecture = GanArchitecture.KerasDcgan, ImageSize = 30 }.Validate(),
            Throws.TypeOf<TrainerException>().With.Message.Contains("28, 32"));
    }

    [Test]
    public void DatasetAndModelShapesMustAgree()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Dcgan, ImageSize = 32, Width = 8 };
        using var data = TestData.Dataset(16, 28, 1, model.ValueRange);
        Assert.That(() => new GanTrainer(model, new TrainingOptions { Steps = 1 }, TestData.NewTempFolder(), TextWriter.Null).Train(data),
            Throws.TypeOf<TrainerException>().With.Message.Contains("1×28×28").And.Message.Contains("1×32×32"));
    }
}
