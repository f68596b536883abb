using Google.Protobuf;
using GanOnnx.Runtime;
using GanOnnx.Runtime.Onnx;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Onnx;
using GanOnnx.Trainer.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Tests;

/// <summary>
/// The runtime's sub-pixel rewrite of a DCGAN's last two upsampling layers (<see cref="SubPixelGraph"/>): the graph it
/// makes means the same as the model's own, for exported generators and for hand-made graphs, and it leaves alone every
/// graph where the rewrite would not be the same computation.
/// </summary>
public class SubPixelTests
{
    public static IEnumerable<TestCaseData> Dcgans()
    {
        // The DCGANs' last two layers (2); the Keras DCGAN's two upsample-then-ConvTranspose layers and two stride-1 ones (4).
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.Dcgan, LatentDim = 32, Width = 8 }, 2).SetName("Dcgan28");
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.Dcgan, LatentDim = 32, Width = 8, ImageSize = 64, Channels = 3 }, 2).SetName("Dcgan64Rgb");
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.Dcgan, LatentDim = 32, Width = 8, NumClasses = 3, LatentClasses = 2, Clustered = true, LatentClassPrior = [0.3, 0.7, 0.5, 0.5, 0.6, 0.4] }, 2).SetName("ClassClusteredDcgan28");
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.KerasDcgan, LatentDim = 32, Width = 8 }, 4).SetName("KerasDcgan28");
        yield return new TestCaseData(new ModelConfig { Architecture = GanArchitecture.KerasDcgan, LatentDim = 32, Width = 8, NumClasses = 4 }, 4).SetName("ConditionalKerasDcgan28");
    }

    [TestCaseSource(nameof(Dcgans))]
    public void AnExportedDcganRunsAsSubPixelConvolutionsWithTheSameImages(ModelConfig config, int layers)
    {
        manual_seed(5);
        using var generator = new Generator(config);
        generator.eval();
        var path = Path.Combine(TestData.NewTempFolder(), "g.onnx");
        OnnxExporter.Export(generator, new ExportOptions { Dataset = "synthetic", ClassNames = Enumerable.Range(0, config.NumClasses).Select(i => $"c{i}").ToArray() }, path);

        using var own = GeneratorSession.Load(path, new GeneratorOptions { MaxBatchSize = 8, SubPixel = SubPixelMode.Off });
        using var rewritten = GeneratorSession.Load(path, new GeneratorOptions { MaxBatchSize = 8, SubPixel = SubPixelMode.On });
        using var automatic = GeneratorSession.Load(path, new GeneratorOptions { MaxBatchSize = 3 });
        Assert.That((own.SubPixelRewrites, rewritten.SubPixelRewrites, automatic.SubPixelRewrites), Is.EqualTo((0, layers, layers)), "Auto rewrites on the CPU");
        Assert.That(rewritten.ModelSha256, Is.EqualTo(own.ModelSha256), "the hash is the file's, not the rewritten graph's");

        var expected = own.Generate(11, seed: 3);
        foreach (var session in new[] { rewritten, automatic })
        {
            var actual = session.Generate(11, seed: 3);
            Assert.That(actual.Labels, Is.EqualTo(expected.Labels));
            var worst = expected.Pixels.AsSpan(0, 11 * own.Contract.ValuesPerImage).ToArray().Zip(actual.Pixels).Max(p => Math.Abs(p.First - p.Second));
            Assert.That(worst, Is.LessThan(1e-5f), "the same images up to float32 rounding");
        }
        // Image k is the same whatever the batch: the rewritten graph keeps the project's promise.
        Assert.That(automatic.Generate(11, seed: 3).Pixels, Is.EqualTo(rewritten.Generate(11, seed: 3).Pixels));
    }

    [Test]
    public void AnFp16ExportIsLeftAsItIs()
    {
        manual_seed(5);
        using var generator = new Generator(new ModelConfig { Architecture = GanArchitecture.Dcgan, LatentDim = 32, Width = 8 });
        generator.eval();
        var path = Path.Combine(TestData.NewTempFolder(), "g16.onnx");
        OnnxExporter.Export(generator, new ExportOptions { Fp16 = true, Dataset = "synthetic" }, path);
        using var session = GeneratorSession.Load(path, new GeneratorOptions { SubPixel = SubPixelMode.On });
        Assert.That(session.SubPixelRewrites, Is.Zero, "float16 weights are not rearranged");
    }

    [TestCase("LeakyRelu", true, true)]
    [TestCase("Relu", false, true)]
    [TestCase(null, true, false)]
    [TestCase("Tanh", false, false)]
    public void AHandMadePairMeansTheSameAfterTheRewrite(string? activation, bool firstBias, bool lastBias)
    {
        var model = Pair(new Shape { Activation = activation, FirstBias = firstBias, LastBias = lastBias });
        var rewritten = SubPixelGraph.Rewrite(model, out var count);
        Assert.That(count, Is.EqualTo(2));
        var input = RandomInput(seed: 2);
        var expected = Run(model, input);
        var actual = Run(rewritten, input);
        Assert.That(actual.Length, Is.EqualTo(expected.Length));
        Assert.That(expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(1e-5f));
        Assert.That(expected.Max(Math.Abs), Is.GreaterThan(0.01f), "the graph computes something");
        // A second pass finds its own work and leaves it.
        Assert.That(SubPixelGraph.Rewrite(rewritten, out var again), Is.SameAs(rewritten));
        Assert.That(again, Is.Zero);
    }

    public static IEnumerable<TestCaseData> NotThePattern()
    {
        yield return new TestCaseData(new Shape { MiddleIsOutput = true }).SetName("the activation's output is also a graph output");
        yield return new TestCaseData(new Shape { LastOutputs = SubPixelGraph.MaxLastOutputs + 1 }).SetName("the last layer has too many channels");
        yield return new TestCaseData(new Shape { FirstStride = 1 }).SetName("the first layer has stride 1");
        yield return new TestCaseData(new Shape { FirstPads = 0 }).SetName("the first layer has no padding");
        yield return new TestCaseData(new Shape { OutputPadding = true }).SetName("the last layer has output padding");
        yield return new TestCaseData(new Shape { WeightIsInput = true }).SetName("a weight is an overridable graph input");
        yield return new TestCaseData(new Shape { SecondConsumer = true }).SetName("the first layer's output goes to another node too");
    }

    [TestCaseSource(nameof(NotThePattern))]
    public void AGraphThatIsNotExactlyThePatternIsLeftAsItIs(Shape shape)
    {
        var model = Pair(shape);
        Assert.That(SubPixelGraph.Rewrite(model, out var count), Is.SameAs(model));
        Assert.That(count, Is.Zero);
        Assert.That(Run(model, RandomInput(seed: 2)), Is.Not.Empty, "the hand-made graph itself is valid");
    }

    [TestCase(5, "asymmetric", "floor", true)]
    [TestCase(5, "half_pixel", null, false)]
    [TestCase(3, "asymmetric", "round_prefer_floor", true)]
    [TestCase(7, "asymmetric", "floor", false)]
    public void UpsamplingThenAStrideOneLayerMeansTheSameAsFourSmallConvolutions(int kernel, string coordinates, string? rounding, bool relu)
    {
        var model = Upsampled(new Upsampling { Kernel = kernel, Coordinates = coordinates, Rounding = rounding, Relu = relu });
        var rewritten = SubPixelGraph.Rewrite(model, out var count);
        Assert.That(count, Is.EqualTo(1));
        var input = RandomInput(seed: 4);
        var expected = Run(model, input);
        Assert.That(expected.Zip(Run(rewritten, input)).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(1e-5f));
        Assert.That(expected.Max(Math.Abs), Is.GreaterThan(0.01f), "the graph computes something");
    }

    [Test]
    public void AStrideOneLayerAloneBecomesAConvolutionWithTheSameOutput()
    {
        var model = Upsampled(new Upsampling { Kernel = 3, Resize = false });
        var rewritten = SubPixelGraph.Rewrite(model, out var count);
        Assert.That(count, Is.EqualTo(1));
        var input = RandomInput(seed: 5);
        Assert.That(Run(model, input).Zip(Run(rewritten, input)).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(1e-5f));
    }

    public static IEnumerable<TestCaseData> NotAnUpsampling()
    {
        yield return new TestCaseData(new Upsampling { Mode = "linear" }).SetName("linear upsampling");
        yield return new TestCaseData(new Upsampling { Scale = 3 }).SetName("upsampling by 3");
        yield return new TestCaseData(new Upsampling { Rounding = "round_prefer_ceil" }).SetName("asymmetric upsampling rounding up");
        yield return new TestCaseData(new Upsampling { Coordinates = "half_pixel", Rounding = "floor" }).SetName("half-pixel upsampling rounding down");
        yield return new TestCaseData(new Upsampling { Kernel = 4, Pads = 1 }).SetName("an even kernel");
        yield return new TestCaseData(new Upsampling { Pads = 0 }).SetName("a stride-1 layer that grows the image");
        yield return new TestCaseData(new Upsampling { Resize = false, Pads = 0 }).SetName("a lone stride-1 layer that grows the image");
    }

    [TestCaseSource(nameof(NotAnUpsampling))]
    public void AnUpsamplingThatIsNotExactlyThePatternIsNotMerged(Upsampling shape)
    {
        var model = Upsampled(shape);
        var rewritten = SubPixelGraph.Rewrite(model, out var count);
        // A layer that still is a same-padded stride-1 ConvTranspose may become a Conv on its own; nothing else changes.
        Assert.That(count, Is.LessThanOrEqualTo(1));
        Assert.That(count == 0 ? rewritten : model, Is.SameAs(model));
        var input = RandomInput(seed: 6);
        var expected = Run(model, input);
        Assert.That(expected.Zip(Run(rewritten, input)).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(1e-5f));
        var merged = SubPixelTests.Nodes(rewritten).Count(n => n == "DepthToSpace");
        Assert.That(merged, Is.Zero, "no phases were made");
    }

    [Test]
    public void BytesThatAreNotOnnxAreLeftForOnnxRuntimeToJudge()
    {
        byte[] garbage = [0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2];
        Assert.That(SubPixelGraph.Rewrite(garbage, out var count), Is.SameAs(garbage));
        Assert.That(count, Is.Zero);
    }

    /// <summary>What the hand-made pair looks like: input [2, 6, 3, 3] → ConvTranspose → activation → ConvTranspose.</summary>
    public sealed record Shape
    {
        public string? Activation { get; init; } = "Relu";
        public bool FirstBias { get; init; } = true;
        public bool LastBias { get; init; } = true;
        public int LastOutputs { get; init; } = 3;
        public int FirstStride { get; init; } = 2;
        public int FirstPads { get; init; } = 1;
        public bool OutputPadding { get; init; }
        public bool MiddleIsOutput { get; init; }
        public bool WeightIsInput { get; init; }
        public bool SecondConsumer { get; init; }
        public override string ToString() => "pair";
    }

    private const int InChannels = 6, MiddleChannels = 5, Side = 3;

    private static byte[] Pair(Shape shape)
    {
        var random = new Random(7);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var graph = new GraphBuilder();
        graph.Graph.Input.Add(GraphBuilder.Value("x", TensorProto.Types.DataType.Float, 2, InChannels, Side, Side));
        AttributeProto[] Upsampling(int stride, int pads, bool outputPadding) =>
        [
            GraphBuilder.Attr("kernel_shape", [4L, 4]), GraphBuilder.Attr("strides", [(long)stride, stride]), GraphBuilder.Attr("pads", [(long)pads, pads, pads, pads]),
            .. outputPadding ? new[] { GraphBuilder.Attr("output_padding", [1L, 1]) } : [],
        ];
        var w1 = graph.Initializer("w1", Values(InChannels * MiddleChannels * 16), InChannels, MiddleChannels, 4, 4);
        if (shape.WeightIsInput) graph.Graph.Input.Add(GraphBuilder.Value(w1, TensorProto.Types.DataType.Float, InChannels, MiddleChannels, 4, 4));
        var first = graph.Node("ConvTranspose", "up1",
            shape.FirstBias ? ["x", w1, graph.Initializer("b1", Values(MiddleChannels), MiddleChannels)] : ["x", w1],
            Upsampling(shape.FirstStride, shape.FirstPads, false));
        var middle = shape.Activation is null ? first
            : graph.Node(shape.Activation, "act", [first], shape.Activation == "LeakyRelu" ? [GraphBuilder.Attr("alpha", 0.15f)] : []);
        var w2 = graph.Initializer("w2", Values(MiddleChannels * shape.LastOutputs * 16), MiddleChannels, shape.LastOutputs, 4, 4);
        var last = graph.Node("ConvTranspose", "up2",
            shape.LastBias ? [middle, w2, graph.Initializer("b2", Values(shape.LastOutputs), shape.LastOutputs)] : [middle, w2],
            Upsampling(2, 1, shape.OutputPadding));
        graph.Graph.Output.Add(GraphBuilder.Value(last, TensorProto.Types.DataType.Float, "n", "c", "h", "w"));
        if (shape.MiddleIsOutput) graph.Graph.Output.Add(GraphBuilder.Value(middle, TensorProto.Types.DataType.Float, "n", "c1", "h1", "w1"));
        if (shape.SecondConsumer) graph.Graph.Output.Add(GraphBuilder.Value(graph.Node("Sigmoid", "other", [first]), TensorProto.Types.DataType.Float, "n", "c1", "h1", "w1"));
        var model = new ModelProto { IrVersion = 8, Graph = graph.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
        return model.ToByteArray();
    }

    /// <summary>input [2, 6, 3, 3] → Resize (nearest) → ConvTranspose stride 1 → (Relu).</summary>
    public sealed record Upsampling
    {
        public int Kernel { get; init; } = 5;
        public int? Pads { get; init; }
        public string Mode { get; init; } = "nearest";
        public string Coordinates { get; init; } = "asymmetric";
        public string? Rounding { get; init; } = "floor";
        public float Scale { get; init; } = 2;
        public bool Relu { get; init; } = true;
        public bool Resize { get; init; } = true;
        public override string ToString() => "upsampling";
    }

    private static byte[] Upsampled(Upsampling shape)
    {
        var random = new Random(9);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var graph = new GraphBuilder();
        graph.Graph.Input.Add(GraphBuilder.Value("x", TensorProto.Types.DataType.Float, 2, InChannels, Side, Side));
        var x = "x";
        if (shape.Resize)
        {
            var attributes = new List<AttributeProto> { GraphBuilder.Attr("mode", shape.Mode), GraphBuilder.Attr("coordinate_transformation_mode", shape.Coordinates) };
            if (shape.Rounding is not null) attributes.Add(GraphBuilder.Attr("nearest_mode", shape.Rounding));
            x = graph.Node("Resize", "up", ["x", "", graph.Constant("scales", [1f, 1f, shape.Scale, shape.Scale], 4)], [.. attributes]);
        }
        int k = shape.Kernel, pads = shape.Pads ?? (k - 1) / 2;
        var w = graph.Initializer("w", Values(InChannels * MiddleChannels * k * k), InChannels, MiddleChannels, k, k);
        var y = graph.Node("ConvTranspose", "conv", [x, w, graph.Initializer("b", Values(MiddleChannels), MiddleChannels)],
            GraphBuilder.Attr("kernel_shape", [(long)k, k]), GraphBuilder.Attr("pads", [(long)pads, pads, pads, pads]));
        if (shape.Relu) y = graph.Node("Relu", "relu", [y]);
        graph.Graph.Output.Add(GraphBuilder.Value(y, TensorProto.Types.DataType.Float, "n", "c", "h", "w"));
        var model = new ModelProto { IrVersion = 8, Graph = graph.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
        return model.ToByteArray();
    }

    /// <summary>The operator of every node in <paramref name="model"/>.</summary>
    private static List<string> Nodes(byte[] model) => [.. ModelProto.Parser.ParseFrom(model).Graph.Node.Select(n => n.OpType)];

    private static DenseTensor<float> RandomInput(int seed)
    {
        var random = new Random(seed);
        var tensor = new DenseTensor<float>([2, InChannels, Side, Side]);
        for (var i = 0; i < tensor.Length; i++) tensor.SetValue(i, (float)(random.NextDouble() * 2 - 1));
        return tensor;
    }

    private static float[] Run(byte[] model, DenseTensor<float> input)
    {
        using var session = new InferenceSession(model);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", input)]);
        return results[0].AsTensor<float>().ToArray();
    }
}
