namespace GanOnnx.Runtime.Onnx;

/// <summary>
/// Adds an 8-bit pixel output to a generator's ONNX graph: the image output is mapped from the model's value range to
/// 0…255 exactly as <c>ImageEncoder.ToByte</c> does it (subtract the minimum, divide by the range, times 255, plus 0.5,
/// clamp, truncate), then optionally transposed to NHWC. The nodes are appended as a second <c>graph</c> field, which
/// protobuf merges into the first (repeated fields are concatenated), so the model's own bytes are not rewritten.
/// </summary>
internal static class PixelGraph
{
    /// <summary>Name of the added output.</summary>
    public const string OutputName = "ganonnx_pixels";

    private const int ModelOpsetImport = 8, ModelGraph = 7, ModelMetadata = 14;
    private const int GraphNode = 1, GraphInitializer = 5, GraphOutput = 12;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5;
    private const int AttributeName = 1, AttributeInt = 3, AttributeInts = 8, AttributeType = 20, AttributeTypeInt = 2, AttributeTypeInts = 7;
    private const int TensorDataType = 2, TensorName = 8, TensorRawData = 9, TensorFloat = 1, TensorUint8 = 2;
    private const int ValueInfoName = 1, ValueInfoType = 2, TypeTensor = 1, TensorTypeElement = 1;
    private const int OpsetDomain = 1, OpsetVersion = 2, EntryKey = 1, EntryValue = 2;

    /// <summary>
    /// Returns <paramref name="model"/> with the pixel output appended. <paramref name="source"/> names the model in
    /// messages. Throws <see cref="GanOnnxException"/> when the model has no single image output or an opset before 8.
    /// </summary>
    public static byte[] Append(byte[] model, PixelLayout layout, string source)
    {
        if (layout == PixelLayout.None) return model;
        var memory = model.AsMemory();
        var opset = Protobuf.Messages(memory, ModelOpsetImport)
            .Where(o => string.IsNullOrEmpty(Protobuf.String(o, OpsetDomain)))
            .Select(o => (long?)Protobuf.Varint(o, OpsetVersion)).FirstOrDefault();
        if (opset is < 8)
            throw new GanOnnxException($"'{source}' uses ONNX opset {opset}; the pixel output needs opset 8 or later (export it again with a newer opset).");
        var outputs = Protobuf.Messages(memory, ModelGraph).SelectMany(g => Protobuf.Messages(g, GraphOutput))
            .Select(o => Protobuf.String(o, ValueInfoName)).ToList();
        if (outputs.Count != 1 || outputs[0] is not { Length: > 0 } image)
            throw new GanOnnxException($"'{source}' has {outputs.Count} graph outputs; the pixel output needs the one image output of a generator.");
        if (outputs[0] == OutputName)
            throw new GanOnnxException($"'{source}' already has an output named '{OutputName}'.");

        var range = ValueRange.Tanh;
        foreach (var entry in Protobuf.Messages(memory, ModelMetadata))
        {
            if (Protobuf.String(entry, EntryKey) == ModelMetadataKeys.ValueRange && !ValueRange.TryParse(Protobuf.String(entry, EntryValue), out range))
                throw new GanOnnxException($"'{source}' is not a usable GanOnnx generator: '{ModelMetadataKeys.ValueRange}' is not 'min,max' with min < max.");
        }

        const string p = OutputName + "/";
        var graph = new Protobuf.Writer()
            .Message(GraphInitializer, Scalar(p + "min", range.Min))
            .Message(GraphInitializer, Scalar(p + "span", range.Max - range.Min))
            .Message(GraphInitializer, Scalar(p + "255", 255f))
            .Message(GraphInitializer, Scalar(p + "half", 0.5f))
            .Message(GraphInitializer, Scalar(p + "zero", 0f))
            .Message(GraphNode, Node("Sub", p + "Sub", [image, p + "min"], p + "shifted"))
            .Message(GraphNode, Node("Div", p + "Div", [p + "shifted", p + "span"], p + "unit"))
            .Message(GraphNode, Node("Mul", p + "Mul", [p + "unit", p + "255"], p + "scaled"))
            .Message(GraphNode, Node("Add", p + "Add", [p + "scaled", p + "half"], p + "rounded"))
            .Message(GraphNode, Node("Max", p + "Max", [p + "rounded", p + "zero"], p + "low"))
            .Message(GraphNode, Node("Min", p + "Min", [p + "low", p + "255"], p + "clamped"));
        var cast = Node("Cast", p + "Cast", [p + "clamped"], layout == PixelLayout.Nchw ? OutputName : p + "nchw")
            .Message(NodeAttribute, new Protobuf.Writer().String(AttributeName, "to").Varint(AttributeInt, TensorUint8).Varint(AttributeType, AttributeTypeInt));
        graph.Message(GraphNode, cast);
        if (layout == PixelLayout.Nhwc)
        {
            var perm = new Protobuf.Writer().String(AttributeName, "perm").Varint(AttributeType, AttributeTypeInts);
            foreach (var axis in new[] { 0, 2, 3, 1 }) perm.Varint(AttributeInts, axis);
            graph.Message(GraphNode, Node("Transpose", p + "Transpose", [p + "nchw"], OutputName).Message(NodeAttribute, perm));
        }
        graph.Message(GraphOutput, new Protobuf.Writer().String(ValueInfoName, OutputName)
            .Message(ValueInfoType, new Protobuf.Writer().Message(TypeTensor, new Protobuf.Writer().Varint(TensorTypeElement, TensorUint8))));

        var appended = new Protobuf.Writer().Message(ModelGraph, graph).ToArray();
        var result = new byte[model.Length + appended.Length];
        model.CopyTo(result, 0);
        appended.CopyTo(result, model.Length);
        return result;
    }

    private static Protobuf.Writer Scalar(string name, float value) =>
        new Protobuf.Writer().Varint(TensorDataType, TensorFloat).String(TensorName, name).RawFloat(TensorRawData, value);

    private static Protobuf.Writer Node(string opType, string name, string[] inputs, string output)
    {
        var node = new Protobuf.Writer();
        foreach (var input in inputs) node.String(NodeInput, input);
        return node.String(NodeOutput, output).String(NodeName, name).String(NodeOpType, opType);
    }
}
