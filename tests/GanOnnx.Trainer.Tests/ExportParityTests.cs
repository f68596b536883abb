using TorchSharp;
using Google.Protobuf;
using GanOnnx.Runtime;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Tests;

public class ExportParityTests
{
    public static IEnumerable<TestCaseData> Configs()
    {
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.Mlp, LatentDim = 100 }).SetName("Mlp28");
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.KerasDcgan, LatentDim = 100, Width = 16 }).SetName("KerasDcgan28");
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.Dcgan, LatentDim = 100, Width = 16 }).SetName("Dcgan28");
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.Dcgan, LatentDim = 64, Width = 8, ImageSize = 64, Channels = 3 }).SetName("Dcgan64Rgb");
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.Dcgan, LatentDim = 32, Width = 8, GeneratorDepth = 2 }).SetName("DeeperDcgan28");
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.Dcgan, LatentDim = 32, Width = 8, NumClasses = 10 }).SetName("ConditionalDcgan28");
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.Mlp, LatentDim = 20, NumClasses = 4 }).SetName("ConditionalMlp28");
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.Dcgan, LatentDim = 32, Width = 8, LatentClasses = 10 }).SetName("InfoGanDcgan28");
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.Mlp, LatentDim = 20, LatentClasses = 4 }).SetName("InfoGanMlp28");
        // Self-conditioned models with unequal cluster shares, for normal and for uniform latents.
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.Dcgan, LatentDim = 32, Width = 8, LatentClasses = 5, Clustered = true, LatentClassPrior = [0.1, 0.3, 0.2, 0.25, 0.15] }).SetName("SelfConditionedDcgan28");
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.KerasDcgan, LatentDim = 32, Width = 8, LatentClasses = 3, Clustered = true, LatentClassPrior = [0.5, 0.2, 0.3] }).SetName("SelfConditionedKerasDcgan28");
        // Clusters within classes: the label picks the row of thresholds, then the (class, cluster) embedding.
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.Dcgan, LatentDim = 32, Width = 8, NumClasses = 3, LatentClasses = 2, Clustered = true, LatentClassPrior = [0.3, 0.7, 0.5, 0.5, 0.6, 0.4] }).SetName("ClassClusteredDcgan28");
    }

    [TestCaseSource(nameof(Configs))]
    public void OnnxRuntimeReproducesTorchSharpEvalOutput(ModelConfig config) => CheckParity(config, new ExportOptions(), 1e-4f);

    [TestCaseSource(nameof(Configs))]
    public void TrainedWeightsExportExactlyToo(ModelConfig config)
    {
        // A few real training steps move every weight and BatchNorm statistic away from its initial value.
        using var data = TestData.Dataset(64, config.ImageSize, config.Channels, config.ValueRange, config.NumClasses > 0 ? config.NumClasses : 10);
        var folder = TestData.NewTempFolder();
        var path = new Training.GanTrainer(config, new Training.TrainingOptions { Steps = 3, BatchSize = 16, SampleEvery = 0, EmaDecay = 0.5 }, folder, TextWriter.Null).Train(data);
        var checkpoint = Training.Checkpoint.Load(path);
        foreach (var section in new[] { "generator", "generator_ema" })
        {
            using var trained = checkpoint.LoadGenerator(path, section);
            CheckParity(trained, new ExportOptions { Ema = section == "generator_ema" }, 1e-4f);
        }
    }

    [TestCaseSource(nameof(Configs))]
    public void Fp16ExportsStayWithinOneHundredthOfTorchSharp(ModelConfig config) => CheckParity(config, new ExportOptions { Fp16 = true }, 1e-2f);

    [TestCase(13)]
    [TestCase(17)]
    [TestCase(21)]
    public void EverySupportedOpsetGivesTheSameImages(int opset) =>
        CheckParity(new ModelConfig { Architecture = GanArchitecture.KerasDcgan, LatentDim = 100, Width = 16, NumClasses = 3 }, new ExportOptions { Opset = opset }, 1e-4f);

    [TestCaseSource(nameof(Configs))]
    public void AnIndependentNumpyInterpreterRunsTheExportedGraphAsOnnxRuntimeDoes(ModelConfig config)
    {
        // tests/peer/numpy_peer.py implements the operators from the ONNX specification in float64, sharing no code with
        // ONNX Runtime: every architecture's export must mean the same in both.
        var python = PythonPeers.FindPython("numpy");
        if (python is null) Assert.Ignore("No python3 with numpy here (apt-get install python3-numpy); .ci/run installs it.");
        manual_seed(11);
        using var generator = new Generator(config);
        RandomizeBatchNormStatistics(generator);
        generator.eval();
        foreach (var fp16 in new[] { false, true })
        {
            var path = Path.Combine(TestData.NewTempFolder(), "g.onnx");
            OnnxExporter.Export(generator, new ExportOptions { Fp16 = fp16, Dataset = "synthetic", ClassNames = Enumerable.Range(0, config.NumClasses).Select(i => $"c{i}").ToArray() }, path);
            using var session = GeneratorSession.Load(path, new GeneratorOptions { MaxBatchSize = 8 });
            const int count = 5;
            var images = session.Generate(count, seed: 3);
            var latents = new float[count * config.LatentDim];
            session.Sampler.FillBatch(3, 0, count, latents);
            var dump = PythonPeers.WriteDump(latents, images.Labels, images.Pixels.AsSpan(0, count * session.Contract.ValuesPerImage).ToArray(), count, config.LatentDim);
            var (code, output) = PythonPeers.RunPeer(python, "numpy_peer.py", "compare", "--model", path, "--dump", dump, "--tolerance", fp16 ? "1e-2" : "1e-4");
            Assert.That(code, Is.Zero, $"fp16 {fp16}: {output}");
            Assert.That(output, Does.Contain(": ok"));
        }
    }

    private static void CheckParity(ModelConfig config, ExportOptions exportOptions, float tolerance)
    {
        manual_seed(11);
        using var generator = new Generator(config);
        RandomizeBatchNormStatistics(generator);
        CheckParity(generator, exportOptions, tolerance);
    }

    private static void CheckParity(Generator generator, ExportOptions exportOptions, float tolerance)
    {
        var config = generator.Config;
        generator.eval();
        var path = Path.Combine(TestData.NewTempFolder(), "g.onnx");
        var result = OnnxExporter.Export(generator, exportOptions with { Dataset = "synthetic", ClassNames = Enumerable.Range(0, config.NumClasses).Select(i => $"c{i}").ToArray() }, path);
        Assert.That(result.Opset, Is.EqualTo(exportOptions.Opset));

        using var session = GeneratorSession.Load(path, new GeneratorOptions { MaxBatchSize = 64 });
        Assert.That(session.Contract.LatentDim, Is.EqualTo(config.LatentDim));
        Assert.That((session.Contract.Channels, session.Contract.Height), Is.EqualTo((config.Channels, config.ImageSize)));
        Assert.That(session.Contract.NumClasses, Is.EqualTo(config.NumClasses));
        Assert.That(session.Contract.LatentDistribution, Is.EqualTo(config.LatentDistribution));
        Assert.That(session.Contract.ValueRange, Is.EqualTo(config.ValueRange));

        foreach (var batch in new[] { 1, 7 })
        {
            var latents = session.Sampler.Sample(3, 0).Concat(Enumerable.Range(1, batch - 1).SelectMany(i => session.Sampler.Sample(3, i))).ToArray();
            var labels = config.NumClasses > 0 ? Enumerable.Range(0, batch).Select(i => (long)(i * 3 % config.NumClasses)).ToArray() : null;
            var onnx = session.GenerateFromLatents(latents, labels);

            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var z = tensor(latents, [batch, config.LatentDim]);
            var y = labels is null ? null : tensor(labels, [batch]);
            var expected = generator.forward(z, y).contiguous().data<float>().ToArray();

            Assert.That(onnx.Pixels, Has.Length.EqualTo(expected.Length));
            var maxDiff = expected.Zip(onnx.Pixels, (a, b) => Math.Abs(a - b)).Max();
            Assert.That(maxDiff, Is.LessThanOrEqualTo(tolerance), $"batch {batch}: max |TorchSharp − ONNX Runtime| = {maxDiff:E2}");
            Assert.That(expected.Max() - expected.Min(), Is.GreaterThan(1e-3f), "the output must not be constant, or the comparison proves nothing");
        }
    }

    [Test]
    public void TheGraphIsCleanWithBatchNormFoldedAndDropoutRemoved()
    {
        using var generator = new Generator(new ModelConfig { Architecture = GanArchitecture.KerasDcgan, Width = 8 });
        generator.eval();
        var model = OnnxExporter.Build(generator, new ExportOptions());
        var ops = model.Graph.Node.Select(n => n.OpType).ToArray();
        Assert.That(ops, Does.Not.Contain("BatchNormalization").And.Not.Contain("Dropout").And.Not.Contain("Identity"));
        Assert.That(ops, Is.EqualTo(new[] { "Gemm", "Relu", "Reshape", "Resize", "ConvTranspose", "Relu", "Resize", "ConvTranspose", "Relu", "ConvTranspose", "Relu", "ConvTranspose", "Sigmoid" }));
        Assert.That(model.Graph.Node.Select(n => n.Name), Does.Contain("deconv1").And.Contain("fc"));
        Assert.That(model.OpsetImport.Single().Version, Is.EqualTo(17));
        Assert.That(model.IrVersion, Is.EqualTo(8));
        Assert.That(model.Graph.Input.Single().Type.TensorType.Shape.Dim[0].DimParam, Is.EqualTo("batch"));
        Assert.That(model.Graph.Output.Single().Name, Is.EqualTo("image"));
    }

    [Test]
    public void AnUnknownLayerIsRefusedByNameBeforeAnyFileIsWritten()
    {
        using var generator = new Generator(new ModelConfig { Architecture = GanArchitecture.Mlp });
        generator.Body.append("mystery", nn.GELU());
        var path = Path.Combine(TestData.NewTempFolder(), "g.onnx");
        Assert.That(() => OnnxExporter.Export(generator, new ExportOptions(), path),
            Throws.TypeOf<TrainerException>().With.Message.Contains("'mystery'").And.Message.Contains("GELU"));
        Assert.That(File.Exists(path), Is.False);
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Is.Empty);
    }

    [Test]
    public void AnOpsetOutsideTheSupportedRangeIsRefused()
    {
        using var generator = new Generator(new ModelConfig { Architecture = GanArchitecture.Mlp });
        Assert.That(() => OnnxExporter.Build(generator, new ExportOptions { Opset = 9 }),
            Throws.TypeOf<TrainerException>().With.Message.Contains("13 to 21"));
    }

    [Test]
    public void TheRuntimeRefusesAnOnnxModelThatIsNotAGenerator()
    {
        var graph = new GraphBuilder();
        graph.Graph.Input.Add(GraphBuilder.Value("x", Onnx.Proto.TensorProto.Types.DataType.Float, "batch", 10));
        var y = graph.Node("Relu", "relu", ["x"]);
        graph.Graph.Output.Add(GraphBuilder.Value(y, Onnx.Proto.TensorProto.Types.DataType.Float, "batch", 10));
        var model = new Onnx.Proto.ModelProto { IrVersion = 8, Graph = graph.Graph };
        model.OpsetImport.Add(new Onnx.Proto.OperatorSetIdProto { Version = 17 });
        var path = Path.Combine(TestData.NewTempFolder(), "classifier.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        Assert.That(() => GeneratorSession.Load(path), Throws.TypeOf<GanOnnxException>()
            .With.Message.Contains("not a usable GanOnnx generator").And.Message.Contains("[batch, channels, height, width]"));
    }

    private static void RandomizeBatchNormStatistics(Generator generator)
    {
        using var _ = no_grad();
        foreach (var (_, module) in generator.named_modules())
        {
            if (module is not BatchNorm bn) continue;
            bn.running_mean!.copy_(randn_like(bn.running_mean) * 0.2);
            bn.running_var!.copy_(rand_like(bn.running_var) + 0.5);
            bn.weight!.copy_(rand_like(bn.weight) + 0.5);
            bn.bias!.copy_(randn_like(bn.bias) * 0.1);
        }
    }
}
