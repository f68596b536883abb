using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using GanOnnx.Runtime;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Onnx.Proto;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;
using static GanOnnx.Trainer.Onnx.GraphBuilder;
using DataType = GanOnnx.Trainer.Onnx.Proto.TensorProto.Types.DataType;

namespace GanOnnx.Trainer.Onnx;

/// <summary>
/// Exports a <see cref="Generator"/> to ONNX by walking its layers: eval-mode semantics (dropout removed, BatchNorm with
/// running statistics folded into the layer before it), a symbolic batch dimension, node names that follow the module
/// names, and the model contract in <c>metadata_props</c>. A layer it does not know is refused before anything is written.
/// </summary>
public static class OnnxExporter
{
    /// <summary>Name of the latent input.</summary>
    public const string LatentInput = "z";
    /// <summary>The node that slices the value that picks the latent class off the latent (it reads the float32 latent in float16 exports).</summary>
    private const string CodeSliceNode = "code_values";

    /// <summary>Name of the label input of conditional models.</summary>
    public const string LabelInput = "label";
    /// <summary>Name of the image output.</summary>
    public const string ImageOutput = "image";

    /// <summary>What an export wrote.</summary>
    public sealed record Result(string Path, long Bytes, int Opset, int Nodes, int Initializers, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyDictionary<string, string> Metadata);

    /// <summary>Exports to <paramref name="path"/> atomically and returns what was written.</summary>
    public static Result Export(Generator generator, ExportOptions options, string path)
    {
        var model = Build(generator, options);
        var bytes = model.ToByteArray();
        AtomicFile.Write(path, bytes);
        return new Result(path, bytes.Length, options.Opset, model.Graph.Node.Count, model.Graph.Initializer.Count,
            model.Graph.Input.Select(Describe).ToList(), model.Graph.Output.Select(Describe).ToList(),
            model.MetadataProps.ToDictionary(p => p.Key, p => p.Value));
    }

    /// <summary>
    /// Records <paramref name="quality"/> (scores from <c>eval</c>) as the <c>ganonnx.quality</c> metadata of an exported
    /// model in place, for a model scored again without its checkpoint (say, with another evaluation classifier). The
    /// graph and weights are left as they are; the file is checked to load as a generator first and rewritten atomically.
    /// Returns the quality JSON it replaced.
    /// </summary>
    public static string RecordQuality(string path, IReadOnlyDictionary<string, double> quality)
    {
        if (!File.Exists(path)) throw new TrainerException(MissingFile.Describe("Model", path, "*.onnx"));
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new TrainerException($"'{path}' is not an ONNX model: {ex.Message}", ex);
        }
        var entry = model.MetadataProps.FirstOrDefault(p => p.Key == ModelMetadataKeys.Quality);
        if (entry is null || !model.MetadataProps.Any(p => p.Key == ModelMetadataKeys.FormatVersion))
            throw new TrainerException($"'{path}' has no GanOnnx metadata ({ModelMetadataKeys.Quality}); only models written by 'ganonnx-train export' can record a quality.");
        try
        {
            // From its path, so that external data (resolved beside the file) is checked too.
            using var check = GeneratorSession.Load(path);
        }
        catch (GanOnnxException ex)
        {
            throw new TrainerException($"'{path}' is not a generator the runtime loads, so its quality was not recorded: {ex.Message}", ex);
        }
        var previous = entry.Value;
        entry.Value = JsonSerializer.Serialize(quality);
        AtomicFile.Write(path, model.ToByteArray());
        return previous;
    }

    /// <summary>Builds the ONNX model in memory (no file is written).</summary>
    internal static ModelProto Build(Generator generator, ExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var config = generator.Config;
        var graph = new GraphBuilder();

        using var _ = no_grad();
        var x = LatentInput;
        graph.Graph.Input.Add(Value(LatentInput, DataType.Float, "batch", config.LatentDim));
        if (generator.LabelEmbedding is { } embedding)
        {
            var table = graph.Initializer("label_embedding.weight", BatchNormFolding.Floats(embedding.weight!), embedding.weight!.shape);
            if (config.NumClasses > 0) graph.Graph.Input.Add(Value(LabelInput, DataType.Int64, "batch"));
            string classes;
            if (config.LatentClasses > 0)
            {
                // Latent classes: the number of thresholds the latent's first value exceeds (Generator.LatentCode); with
                // clusters within classes, of the label's row of thresholds, and the embedding's row is label·K + that.
                var starts = graph.Initializer("code_starts", [0L]);
                var ends = graph.Initializer("code_ends", [1L]);
                var axes = graph.Initializer("code_axes", [1L]);
                var first = graph.Node("Slice", CodeSliceNode, [LatentInput, starts, ends, axes]);
                var thresholds = config.LatentClassThresholds();
                var bounds = config.ClassClusters
                    ? graph.Node("Gather", "code_class_thresholds",
                        [graph.Constant("code_thresholds", thresholds, config.NumClasses, config.LatentClasses - 1), LabelInput], Attr("axis", 0L))
                    : graph.Constant("code_thresholds", thresholds, thresholds.Length);
                var above = graph.Node("Less", "code_above", [bounds, first]);
                var counts = graph.Node("Cast", "code_counts", [above], Attr("to", (long)DataType.Int64));
                classes = graph.Node("ReduceSum", "code", [counts, axes], Attr("keepdims", 0L));
                if (config.ClassClusters)
                {
                    var offset = graph.Node("Mul", "code_class_offset", [LabelInput, graph.Initializer("code_clusters", [(long)config.LatentClasses])]);
                    classes = graph.Node("Add", "code_pair", [offset, classes]);
                }
            }
            else classes = LabelInput;
            var embedded = graph.Node("Gather", "label_embedding", [table, classes], Attr("axis", 0L));
            x = graph.Node("Concat", "concat_label", [LatentInput, embedded], Attr("axis", 1L));
        }

        var layers = generator.Body.named_children().ToList();
        for (var i = 0; i < layers.Count; i++)
        {
            var (name, module) = layers[i];
            var next = i + 1 < layers.Count ? layers[i + 1].module as BatchNorm : null;
            switch (module)
            {
                case Linear linear:
                {
                    var (w, b) = BatchNormFolding.Fold(BatchNormFolding.Floats(linear.weight!), BatchNormFolding.Bias(linear.bias, linear.out_features), linear.out_features, next, outputAxisIsFirst: true, linear.weight!.shape);
                    if (next is not null) i++;
                    var wName = graph.Initializer($"{name}.weight", w, linear.weight!.shape);
                    var bName = graph.Initializer($"{name}.bias", b, linear.out_features);
                    x = graph.Node("Gemm", name, [x, wName, bName], Attr("transB", 1L));
                    break;
                }
                case VerifiedConvTranspose2d t:
                {
                    var foldable = next;
                    if (foldable is not null) i++;
                    x = Convolve(graph, name, x, transposed: true, t.Weight, t.Bias, t.OutChannels, [t.KernelSize, t.KernelSize],
                        [t.Stride], [t.Padding], [1L], groups: 1, outputPadding: [t.OutputPadding], foldable);
                    break;
                }
                case Convolution conv:
                {
                    if (conv.padding_mode != TorchSharp.PaddingModes.Zeros)
                        throw Unsupported(name, module, $"padding mode {conv.padding_mode} (only zeros)");
                    if (conv.padding_type is not null)
                        throw Unsupported(name, module, $"padding '{conv.padding_type}' (only explicit padding)");
                    var foldable = conv.groups == 1 ? next : null;
                    if (foldable is not null) i++;
                    x = Convolve(graph, name, x, conv.transposed, conv.weight!, conv.bias, conv.out_channels, conv.kernel_size,
                        conv.stride, conv.padding ?? [0L], conv.dilation, conv.groups, conv.output_padding, foldable);
                    break;
                }
                case BatchNorm bn:
                {
                    var (scale, shift) = BatchNormFolding.Affine(bn);
                    var scaleName = graph.Initializer($"{name}.scale", scale, scale.Length);
                    var shiftName = graph.Initializer($"{name}.shift", shift, shift.Length);
                    var zeros = graph.Initializer($"{name}.zero_mean", new float[scale.Length], scale.Length);
                    var ones = graph.Initializer($"{name}.unit_var", Enumerable.Repeat(1f, scale.Length).ToArray(), scale.Length);
                    x = graph.Node("BatchNormalization", name, [x, scaleName, shiftName, zeros, ones], Attr("epsilon", 0f));
                    break;
                }
                case ReLU:
                    x = graph.Node("Relu", name, [x]);
                    break;
                case LeakyReLU leaky:
                    x = graph.Node("LeakyRelu", name, [x], Attr("alpha", (float)leaky.negative_slope));
                    break;
                case Sigmoid:
                    x = graph.Node("Sigmoid", name, [x]);
                    break;
                case Tanh:
                    x = graph.Node("Tanh", name, [x]);
                    break;
                case Dropout or Dropout2d:
                    break; // identity in eval mode
                case Unflatten unflatten:
                {
                    if (unflatten.dim != 1) throw Unsupported(name, module, $"unflatten of dimension {unflatten.dim} (only 1)");
                    var shape = graph.Initializer($"{name}.shape", [-1, .. unflatten.unflattened_size]);
                    x = graph.Node("Reshape", name, [x, shape]);
                    break;
                }
                case Flatten flatten:
                {
                    if (flatten.start_dim != 1 || flatten.end_dim != -1) throw Unsupported(name, module, "flatten other than from dimension 1 to the end");
                    x = graph.Node("Flatten", name, [x], Attr("axis", 1L));
                    break;
                }
                case Upsample upsample:
                {
                    if (upsample.mode != UpsampleMode.Nearest) throw Unsupported(name, module, $"upsampling mode {upsample.mode} (only nearest)");
                    var factors = upsample.scale_factor.ToArray();
                    if (factors.Length == 0) throw Unsupported(name, module, "upsampling to a fixed size (only scale factors)");
                    var (sh, sw) = factors.Length == 1 ? (factors[0], factors[0]) : (factors[0], factors[1]);
                    var scales = graph.Constant($"{name}.scales", [1f, 1f, (float)sh, (float)sw], 4);
                    // PyTorch's nearest: source index = floor(dst × in/out), i.e. asymmetric coordinates with floor.
                    x = graph.Node("Resize", name, [x, "", scales],
                        Attr("mode", "nearest"), Attr("coordinate_transformation_mode", "asymmetric"), Attr("nearest_mode", "floor"));
                    break;
                }
                default:
                    throw Unsupported(name, module, "a layer type the exporter does not know");
            }
        }
        if (x == LatentInput) throw new TrainerException("The generator has no layers to export.");
        if (options.Fp16) x = Fp16Pass.Apply(graph, LatentInput, x, new HashSet<string> { CodeSliceNode });
        graph.RenameOutput(x, ImageOutput);
        graph.Graph.Output.Add(Value(ImageOutput, DataType.Float, "batch", config.Channels, config.ImageSize, config.ImageSize));

        var model = new ModelProto
        {
            IrVersion = ExportOptions.IrVersionFor(options.Opset),
            ProducerName = "GanOnnx",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            Domain = "ai.ganonnx",
            ModelVersion = 1,
            DocString = $"{config.ArchitectureName} generator: z[{config.LatentDim}] -> image[{config.Channels}x{config.ImageSize}x{config.ImageSize}]",
            Graph = graph.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        foreach (var (key, value) in Metadata(config, options))
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    /// <summary>Emits a Conv or ConvTranspose node, with a following BatchNorm folded in when <paramref name="foldable"/> is set.</summary>
    private static string Convolve(GraphBuilder graph, string name, string x, bool transposed, Tensor weight, Tensor? bias, long outChannels,
        long[] kernel, long[] stride, long[] padding, long[] dilation, long groups, long[] outputPadding, BatchNorm? foldable)
    {
        var (w, b) = BatchNormFolding.Fold(BatchNormFolding.Floats(weight), BatchNormFolding.Bias(bias, outChannels), outChannels, foldable, outputAxisIsFirst: !transposed, weight.shape);
        var wName = graph.Initializer($"{name}.weight", w, weight.shape);
        var bName = graph.Initializer($"{name}.bias", b, outChannels);
        var pads = Pair(padding);
        var attributes = new List<AttributeProto>
        {
            Attr("kernel_shape", Pair(kernel)),
            Attr("strides", Pair(stride)),
            Attr("pads", [pads[0], pads[1], pads[0], pads[1]]),
            Attr("dilations", Pair(dilation)),
            Attr("group", groups),
        };
        if (transposed && outputPadding.Any(p => p != 0))
            attributes.Add(Attr("output_padding", Pair(outputPadding)));
        return graph.Node(transposed ? "ConvTranspose" : "Conv", name, [x, wName, bName], attributes.ToArray());
    }

    /// <summary>The contract metadata for a generator (see models/README.md).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Metadata(ModelConfig config, ExportOptions options)
    {
        string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        return
        [
            new(ModelMetadataKeys.FormatVersion, ModelMetadataKeys.CurrentFormatVersion),
            new(ModelMetadataKeys.LatentDim, I(config.LatentDim)),
            new(ModelMetadataKeys.LatentDistribution, ModelMetadataKeys.Format(config.LatentDistribution)),
            new(ModelMetadataKeys.ValueRange, config.ValueRange.ToString()),
            new(ModelMetadataKeys.Channels, I(config.Channels)),
            new(ModelMetadataKeys.Height, I(config.ImageSize)),
            new(ModelMetadataKeys.Width, I(config.ImageSize)),
            new(ModelMetadataKeys.NumClasses, I(config.NumClasses)),
            new(ModelMetadataKeys.ClassNames, JsonSerializer.Serialize(config.NumClasses > 0 ? options.ClassNames.Take(config.NumClasses).ToArray() : [])),
            new(ModelMetadataKeys.Architecture, config.ArchitectureName),
            new(ModelMetadataKeys.Loss, options.Loss),
            new(ModelMetadataKeys.Dataset, options.Dataset),
            new(ModelMetadataKeys.TrainingSteps, I(options.TrainingSteps)),
            new(ModelMetadataKeys.Ema, options.Ema ? "true" : "false"),
            new(ModelMetadataKeys.Quality, JsonSerializer.Serialize(options.Quality)),
            new(ModelMetadataKeys.Prefix + "precision", options.Fp16 ? "float16" : "float32"),
            // Clusters within classes stay inside the graph: the contract is the conditional one (latent and class in).
            .. config.LatentClasses > 0 && !config.ClassClusters ? [new KeyValuePair<string, string>(ModelMetadataKeys.LatentClasses, I(config.LatentClasses))] : Array.Empty<KeyValuePair<string, string>>(),
            .. config.LatentClasses > 0 ? [new KeyValuePair<string, string>(ModelMetadataKeys.UntruncatedLatents, "1")] : Array.Empty<KeyValuePair<string, string>>(),
            .. config.LatentClasses > 1 && !config.ClassClusters ? [new KeyValuePair<string, string>(ModelMetadataKeys.LatentClassThresholds, JsonSerializer.Serialize(config.LatentClassThresholds()))] : Array.Empty<KeyValuePair<string, string>>(),
        ];
    }

    private static long[] Pair(long[] values) => values.Length switch
    {
        1 => [values[0], values[0]],
        2 => values,
        _ => throw new TrainerException($"Expected 1 or 2 values for a 2-D layer attribute; got {values.Length}."),
    };

    private static TrainerException Unsupported(string name, object module, string what) =>
        new($"Cannot export layer '{name}' of type {module.GetType().Name}: {what}. Nothing was written.");

    private static string Describe(ValueInfoProto v)
    {
        var t = v.Type.TensorType;
        var dims = t.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : d.DimValue.ToString(CultureInfo.InvariantCulture));
        return $"{v.Name}: {((DataType)t.ElemType).ToString().ToLowerInvariant()}[{string.Join(", ", dims)}]";
    }
}
