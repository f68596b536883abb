using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace GanOnnx.Runtime.Onnx;

/// <summary>
/// Rewrites a generator's ConvTranspose layers as (sub-pixel) convolutions (<see cref="SubPixelMode"/> lists the three
/// patterns). The first, a DCGAN's last two upsampling layers:
/// <para>
/// A <c>ConvTranspose</c> with kernel 4, stride 2 and padding 1 makes output row 2m + a from input rows m and m − 1
/// (a = 0: kernel rows 1 and 3) or m and m + 1 (a = 1: kernel rows 2 and 0), and likewise for columns. So each of its
/// four output phases (a, b) is a plain 2×2 convolution of the input at the input's resolution, with the kernel taps
/// picked out and padding (1 − a, 1 − b, a, b). Interleaving the phases back into one image is slow in ONNX Runtime
/// (its DepthToSpace and Transpose move one float at a time), so the interleave is folded into the next layer instead:
/// a stride-2 <c>ConvTranspose</c> W over the interleaved image equals a stride-4, 6×6, padding-1 <c>ConvTranspose</c>
/// over the four phases stacked as channels, whose kernel for phase (a, b) is W shifted by (2a, 2b). That layer does
/// 2.25× the multiply-adds of the one it replaces, so only a last layer with few output channels (an image's 1 or 3)
/// is worth it; an element-wise activation between the two layers is applied to each phase.
/// </para>
/// <para>
/// The Keras DCGAN's nearest upsampling followed by a stride-1 5×5 <c>ConvTranspose</c> has the same four phases, each a
/// 3×3 convolution of the small image with the kernel taps that land on one small pixel summed (in double precision);
/// there the next layer is wide, so the phases are interleaved with <c>DepthToSpace</c> (its cost is repaid by the 0.36×
/// multiply-adds). Any other stride-1, same-padded <c>ConvTranspose</c> becomes a <c>Conv</c> with the kernel flipped.
/// </para>
/// <para>
/// Only the patterns' nodes and weights change; everything else in the file is copied field by field. Weights are
/// rearranged (or summed), never otherwise recomputed, so the graph means the same up to the order of float32 sums.
/// </para>
/// </summary>
internal static class SubPixelGraph
{
    /// <summary>The most output channels of a last layer that the rewrite takes.</summary>
    public const int MaxLastOutputs = 4;

    /// <summary>Prefix of every name the rewrite adds.</summary>
    public const string Prefix = "ganonnx_subpixel";

    // Element-wise activations with one input and one output, applied to each phase as they were to the whole image.
    private static readonly HashSet<string> Activations = ["Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "Tanh", "Softplus"];

    private const int ModelGraph = 7;
    private const int GraphNode = 1, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12, GraphValueInfo = 13;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5, NodeDomain = 7;
    private const int AttributeName = 1, AttributeInt = 3, AttributeString = 4, AttributeInts = 8, AttributeType = 20, AttributeTypeInt = 2, AttributeTypeString = 3, AttributeTypeInts = 7;
    private const int TensorDims = 1, TensorDataType = 2, TensorFloatData = 4, TensorName = 8, TensorRawData = 9, TensorDataLocation = 14, TensorFloat = 1;
    private const int ValueInfoName = 1;

    private sealed record Node(int Index, string Name, string OpType, string Domain, string[] Inputs, string[] Outputs, List<ReadOnlyMemory<byte>> Attributes);

    private sealed record Weight(long[] Dims, float[] Values);

    /// <summary>
    /// One rewrite: the nodes it replaces (the new nodes go where the first of them was), the tensor the new nodes end in
    /// (the last member's output, under its own name), how many ConvTranspose layers it turns into convolutions, and what
    /// makes the new nodes and weights from a name prefix.
    /// </summary>
    private sealed record Change(Node[] Members, string Output, int Layers, Func<string, (List<Protobuf.Writer> Nodes, List<Protobuf.Writer> Initializers)> Build);

    /// <summary>The pair: the first layer, the activation between (or null) and the last layer.</summary>
    private sealed record Pair(Node First, Node? Activation, Node Last, Weight W1, Weight? B1, Weight W2, Weight? B2);

    /// <summary>
    /// Returns <paramref name="model"/> with every match of the patterns rewritten, and how many ConvTranspose layers that
    /// turned into convolutions (0: the model's bytes are returned as they are). A model this cannot read is returned as
    /// it is, for ONNX Runtime to judge.
    /// </summary>
    public static byte[] Rewrite(byte[] model, out int rewritten)
    {
        rewritten = 0;
        try
        {
            return RewriteLayers(model, ref rewritten);
        }
        catch (GanOnnxException)
        {
            rewritten = 0;
            return model; // not readable as ONNX: loading it says so, naming the model
        }
    }

    private static byte[] RewriteLayers(byte[] model, ref int rewritten)
    {
        var modelFields = Protobuf.Fields(model);
        var graphs = modelFields.Where(f => f.Number == ModelGraph && f.WireType == 2).ToList();
        if (graphs.Count != 1) return model;
        var graphFields = Protobuf.Fields(graphs[0].Bytes);

        var nodes = new List<Node>();
        var initializers = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        var protectedNames = new HashSet<string>(StringComparer.Ordinal); // graph inputs and outputs
        foreach (var field in graphFields)
        {
            if (field.WireType != 2) continue;
            switch (field.Number)
            {
                case GraphNode: nodes.Add(ReadNode(nodes.Count, field.Bytes)); break;
                case GraphInitializer: initializers.TryAdd(Protobuf.String(field.Bytes, TensorName) ?? "", field.Bytes); break;
                case GraphInput or GraphOutput: protectedNames.Add(Protobuf.String(field.Bytes, ValueInfoName) ?? ""); break;
            }
        }
        if (nodes.Any(n => n.Name.StartsWith(Prefix, StringComparison.Ordinal) || n.Outputs.Any(o => o.StartsWith(Prefix, StringComparison.Ordinal))))
            return model; // rewritten already

        var consumers = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        var producers = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            foreach (var input in node.Inputs.Where(i => i.Length > 0))
                (consumers.TryGetValue(input, out var list) ? list : consumers[input] = []).Add(node);
            foreach (var output in node.Outputs) producers[output] = node;
        }

        // The patterns, most profitable first; a node takes part in one rewrite at most.
        var rewrites = new List<Change>();
        var used = new HashSet<int>();
        void Take(Change? rewrite)
        {
            if (rewrite is null || rewrite.Members.Any(m => used.Contains(m.Index))) return;
            used.UnionWith(rewrite.Members.Select(m => m.Index));
            rewrites.Add(rewrite);
        }
        foreach (var node in nodes) Take(FindPair(node, producers, consumers, initializers, protectedNames));
        foreach (var node in nodes) Take(FindUpsampled(node, producers, consumers, initializers, protectedNames));
        foreach (var node in nodes) Take(FindStrideOne(node, initializers, protectedNames));
        if (rewrites.Count == 0) return model;

        // The weights the rewritten nodes used and nothing else still needs are dropped, and so are the recorded shapes
        // of the tensors between them.
        var replacedNodes = rewrites.SelectMany(r => r.Members).Select(m => m.Index).ToHashSet();
        var stillUsed = nodes.Where(n => !replacedNodes.Contains(n.Index)).SelectMany(n => n.Inputs).ToHashSet(StringComparer.Ordinal);
        var dropped = rewrites.SelectMany(r => r.Members).SelectMany(m => m.Inputs)
            .Where(n => initializers.ContainsKey(n) && !stillUsed.Contains(n)).ToHashSet(StringComparer.Ordinal);
        var gone = rewrites.SelectMany(r => r.Members.SelectMany(m => m.Outputs).Where(o => o != r.Output)).ToHashSet(StringComparer.Ordinal);
        var replacements = new Dictionary<int, (List<Protobuf.Writer> Nodes, List<Protobuf.Writer> Initializers)>();
        for (var k = 0; k < rewrites.Count; k++) replacements[rewrites[k].Members.Min(m => m.Index)] = rewrites[k].Build($"{Prefix}{k}/");

        var graph = new Protobuf.Writer();
        var nodeIndex = 0;
        foreach (var field in graphFields)
        {
            if (field.Number == GraphNode && field.WireType == 2)
            {
                var index = nodeIndex++;
                if (replacements.TryGetValue(index, out var replacement))
                    foreach (var node in replacement.Nodes) graph.Message(GraphNode, node);
                else if (!replacedNodes.Contains(index))
                    graph.Bytes(GraphNode, field.Bytes.Span);
                continue;
            }
            if (field.Number == GraphInitializer && field.WireType == 2 && dropped.Contains(Protobuf.String(field.Bytes, TensorName) ?? ""))
                continue;
            if (field.Number == GraphValueInfo && field.WireType == 2 && gone.Contains(Protobuf.String(field.Bytes, ValueInfoName) ?? ""))
                continue; // shapes of the tensors that no longer exist
            graph.Field(field);
        }
        foreach (var initializer in replacements.Values.SelectMany(r => r.Initializers)) graph.Message(GraphInitializer, initializer);

        var result = new Protobuf.Writer();
        foreach (var field in modelFields.Where(f => f.Number != ModelGraph)) result.Field(field);
        result.Message(ModelGraph, graph);
        rewritten = rewrites.Sum(r => r.Layers);
        return result.ToArray();
    }

    private static Change? FindPair(Node last, Dictionary<string, Node> producers, Dictionary<string, List<Node>> consumers,
        Dictionary<string, ReadOnlyMemory<byte>> initializers, HashSet<string> protectedNames)
    {
        if (!IsUpsampling(last) || !OnlyFeeds(last.Inputs[0], last, consumers, protectedNames)) return null;
        if (!producers.TryGetValue(last.Inputs[0], out var before)) return null;
        Node? activation = null;
        if (before.OpType != "ConvTranspose")
        {
            if (!IsActivation(before)) return null;
            activation = before;
            if (!producers.TryGetValue(activation.Inputs[0], out before) || !OnlyFeeds(activation.Inputs[0], activation, consumers, protectedNames))
                return null;
        }
        var first = before;
        if (!IsUpsampling(first)) return null;
        if (Float(first.Inputs[1], initializers, protectedNames) is not { Dims: [var cin, var c, 4, 4] } w1) return null;
        if (Float(last.Inputs[1], initializers, protectedNames) is not { Dims: [var c2in, var c2, 4, 4] } w2) return null;
        if (c2in != c || c2 > MaxLastOutputs || cin < 1 || c < 1 || c2 < 1) return null;
        if (!Bias(first, c, initializers, protectedNames, out var b1) || !Bias(last, c2, initializers, protectedNames, out var b2)) return null;
        var pair = new Pair(first, activation, last, w1, b1, w2, b2);
        return new Change(activation is null ? [first, last] : [first, activation, last], last.Outputs[0], 2, prefix => Build(pair, prefix));
    }

    /// <summary>
    /// Nearest-neighbour upsampling by 2 (a Resize) followed by a stride-1, same-padded ConvTranspose (the Keras DCGAN's
    /// UpSampling2D + Conv2DTranspose): each of the four output phases reads the small image through a kernel whose
    /// taps that land on the same small pixel are summed (a 5×5 kernel becomes four 3×3 ones: 0.36× the multiply-adds,
    /// at the small image's size). The phases are put back in place with DepthToSpace.
    /// </summary>
    private static Change? FindUpsampled(Node layer, Dictionary<string, Node> producers, Dictionary<string, List<Node>> consumers,
        Dictionary<string, ReadOnlyMemory<byte>> initializers, HashSet<string> protectedNames)
    {
        if (StrideOne(layer, initializers, protectedNames) is not { } found || found.K < 3) return null;
        var (w, b, k) = found;
        if (!producers.TryGetValue(layer.Inputs[0], out var resize) || !IsNearestDouble(resize, initializers, protectedNames)
            || !OnlyFeeds(layer.Inputs[0], layer, consumers, protectedNames))
            return null;
        var activation = ActivationAfter(layer, consumers, protectedNames);
        var output = (activation ?? layer).Outputs[0];
        return new Change(activation is null ? [resize, layer] : [resize, layer, activation], output, 1,
            prefix => BuildUpsampled(resize.Inputs[0], w, b, k, activation, output, prefix));
    }

    /// <summary>A stride-1, same-padded ConvTranspose is a Conv with the kernel flipped and its channel axes swapped.</summary>
    private static Change? FindStrideOne(Node layer, Dictionary<string, ReadOnlyMemory<byte>> initializers, HashSet<string> protectedNames)
    {
        if (StrideOne(layer, initializers, protectedNames) is not { } found) return null;
        var (w, b, k) = found;
        return new Change([layer], layer.Outputs[0], 1, prefix =>
        {
            int cin = (int)w.Dims[0], cout = (int)w.Dims[1];
            var kernel = new float[cout * cin * k * k];
            for (var o = 0; o < cout; o++)
                for (var c = 0; c < cin; c++)
                    for (var y = 0; y < k; y++)
                        for (var x = 0; x < k; x++)
                            kernel[((o * cin + c) * k + y) * k + x] = w.Values[((c * cout + o) * k + (k - 1 - y)) * k + (k - 1 - x)];
            var pad = (k - 1) / 2;
            var initializers = new List<Protobuf.Writer> { Tensor(prefix + "weight", kernel, cout, cin, k, k) };
            var inputs = new List<string> { layer.Inputs[0], prefix + "weight" };
            if (b is not null)
            {
                initializers.Add(Tensor(prefix + "bias", b.Values, cout));
                inputs.Add(prefix + "bias");
            }
            return ([NewNode("Conv", prefix + "conv", inputs, layer.Outputs[0],
                Ints("kernel_shape", k, k), Ints("pads", pad, pad, pad, pad), Ints("strides", 1, 1), Ints("dilations", 1, 1), Int("group", 1))], initializers);
        });
    }

    /// <summary>
    /// A 2-D ConvTranspose with stride 1, one group, no dilation or output padding, an odd kernel k and padding (k − 1) / 2
    /// (the output as large as the input), with its float32 weight and bias; otherwise null.
    /// </summary>
    private static (Weight W, Weight? B, int K)? StrideOne(Node node, Dictionary<string, ReadOnlyMemory<byte>> initializers, HashSet<string> protectedNames)
    {
        if (Shape(node) is not { Stride: 1 } shape) return null;
        if (Float(node.Inputs[1], initializers, protectedNames) is not { Dims: [var cin, var cout, var k, var kw] } w || k != kw || k % 2 == 0 || cin < 1 || cout < 1)
            return null;
        if (shape.Kernel is { } given && given != k || 2 * shape.Pad != k - 1) return null;
        return Bias(node, cout, initializers, protectedNames, out var b) ? (w, b, (int)k) : null;
    }

    /// <summary>
    /// A Resize that repeats every pixel twice in each direction: nearest, scales [1, 1, 2, 2] held in the file, and a
    /// coordinate rule that reads output pixel y from input pixel ⌊y / 2⌋ (asymmetric with floor or round-prefer-floor,
    /// or half-pixel with round-prefer-floor).
    /// </summary>
    private static bool IsNearestDouble(Node resize, Dictionary<string, ReadOnlyMemory<byte>> initializers, HashSet<string> protectedNames)
    {
        if (resize.OpType != "Resize" || !IsDefaultDomain(resize) || resize.Inputs.Length is < 3 or > 4 || resize.Outputs.Length != 1) return false;
        if (resize.Inputs.Length == 4 && resize.Inputs[3].Length > 0) return false; // sizes instead of scales
        if (Float(resize.Inputs[2], initializers, protectedNames) is not { Dims: [4], Values: [1f, 1f, 2f, 2f] }) return false;
        string mode = "nearest", coordinates = "half_pixel", rounding = "round_prefer_floor";
        foreach (var attribute in resize.Attributes)
        {
            var name = Protobuf.String(attribute, AttributeName);
            var text = Protobuf.String(attribute, AttributeString);
            switch (name)
            {
                case "mode": mode = text ?? ""; break;
                case "coordinate_transformation_mode": coordinates = text ?? ""; break;
                case "nearest_mode": rounding = text ?? ""; break;
                case "cubic_coeff_a" or "extrapolation_value": break;
                case "exclude_outside" or "antialias": if (Protobuf.Varint(attribute, AttributeInt) is not (null or 0)) return false; break;
                default: return false;
            }
        }
        return mode == "nearest" && (coordinates, rounding) is ("asymmetric", "floor" or "round_prefer_floor") or ("half_pixel", "round_prefer_floor");
    }

    /// <summary>The element-wise activation that alone reads <paramref name="layer"/>'s output, or null.</summary>
    private static Node? ActivationAfter(Node layer, Dictionary<string, List<Node>> consumers, HashSet<string> protectedNames)
    {
        var output = layer.Outputs[0];
        if (protectedNames.Contains(output) || !consumers.TryGetValue(output, out var list) || list.Count != 1) return null;
        var next = list[0];
        return IsActivation(next) ? next : null;
    }

    /// <summary>An element-wise activation of the default domain with one input and one output.</summary>
    private static bool IsActivation(Node node) =>
        Activations.Contains(node.OpType) && IsDefaultDomain(node) && node.Inputs.Length == 1 && node.Outputs.Length == 1;

    /// <summary>
    /// The layer's bias: true with null when it has none, true with the weight when it is a float32 vector of
    /// <paramref name="channels"/> held in the file, false otherwise.
    /// </summary>
    private static bool Bias(Node layer, long channels, Dictionary<string, ReadOnlyMemory<byte>> initializers, HashSet<string> protectedNames, out Weight? bias)
    {
        bias = layer.Inputs.Length == 3 ? Float(layer.Inputs[2], initializers, protectedNames) : null;
        return layer.Inputs.Length < 3 || bias?.Dims is [var n] && n == channels;
    }

    private static (List<Protobuf.Writer> Nodes, List<Protobuf.Writer> Initializers) BuildUpsampled(string input, Weight w, Weight? b, int k, Node? activation,
        string output, string p)
    {
        var nodes = new List<Protobuf.Writer>();
        var initializers = new List<Protobuf.Writer>();
        int cin = (int)w.Dims[0], cout = (int)w.Dims[1], pad = (k - 1) / 2;
        // Kernel row ky reads upsampled row Y + pad − ky, i.e. small row m + ⌊(a + pad − ky) / 2⌋ for output row Y = 2m + a.
        static int Offset(int phase, int pad, int tap) => (int)Math.Floor((phase + pad - tap) / 2.0);
        int low = Offset(0, pad, k - 1), high = Offset(1, pad, 0), size = high - low + 1;
        var phases = new List<string>();
        for (var a = 0; a < 2; a++)
        {
            for (var c = 0; c < 2; c++)
            {
                var sums = new double[cout * cin * size * size];
                for (var o = 0; o < cout; o++)
                    for (var i = 0; i < cin; i++)
                        for (var ky = 0; ky < k; ky++)
                            for (var kx = 0; kx < k; kx++)
                                sums[((o * cin + i) * size + Offset(a, pad, ky) - low) * size + Offset(c, pad, kx) - low] += w.Values[((i * cout + o) * k + ky) * k + kx];
                var name = $"{p}phase{a}{c}";
                initializers.Add(Tensor(name + "/weight", [.. sums.Select(v => (float)v)], cout, cin, size, size));
                var inputs = new List<string> { input, name + "/weight" };
                if (b is not null)
                {
                    initializers.Add(Tensor(name + "/bias", b.Values, cout));
                    inputs.Add(name + "/bias");
                }
                nodes.Add(NewNode("Conv", name, inputs, name,
                    Ints("kernel_shape", size, size), Ints("pads", -low, -low, high, high), Ints("strides", 1, 1), Ints("dilations", 1, 1), Int("group", 1)));
                if (activation is not null) name = Activated(nodes, activation, name);
                phases.Add(name);
            }
        }
        nodes.Add(NewNode("Concat", p + "phases", phases, p + "phases", Int("axis", 1)));
        nodes.Add(NewNode("DepthToSpace", p + "interleave", [p + "phases"], output, Int("blocksize", 2), Text("mode", "DCR")));
        return (nodes, initializers);
    }

    /// <summary>Adds <paramref name="activation"/> (its type and attributes) after tensor <paramref name="name"/>; returns its output.</summary>
    private static string Activated(List<Protobuf.Writer> nodes, Node activation, string name)
    {
        var node = NewNode(activation.OpType, name + "/" + activation.OpType, [name], name + "/activated");
        foreach (var attribute in activation.Attributes) node.Bytes(NodeAttribute, attribute.Span);
        nodes.Add(node);
        return name + "/activated";
    }

    /// <summary>A 2-D ConvTranspose with kernel 4, stride 2, padding 1, one group, no dilation and no output padding.</summary>
    private static bool IsUpsampling(Node node) => Shape(node) is { Kernel: 4 or null, Stride: 2, Pad: 1 };

    /// <summary>
    /// A 2-D ConvTranspose's square kernel (null when only its weight says), equal strides and equal padding on every
    /// side, read from its attributes (ONNX's defaults: stride 1, padding 0), when it has one group, no dilation, no
    /// output padding or shape, no automatic padding and two or three named inputs; otherwise null. Nothing is decoded.
    /// </summary>
    private static (int? Kernel, long Stride, long Pad)? Shape(Node node)
    {
        if (node.OpType != "ConvTranspose" || !IsDefaultDomain(node) || node.Inputs.Length is < 2 or > 3 || node.Outputs.Length != 1) return null;
        if (node.Inputs.Any(i => i.Length == 0)) return null;
        int? kernel = null;
        long stride = 1, pad = 0;
        foreach (var attribute in node.Attributes)
        {
            var ints = Ints(attribute);
            var ok = Protobuf.String(attribute, AttributeName) switch
            {
                "kernel_shape" => ints is [var ky, var kx] && ky == kx && (kernel = (int)ky) > 0,
                "strides" => ints is [var sy, var sx] && sy == sx && (stride = sy) > 0,
                "pads" => ints is [var p1, var p2, var p3, var p4] && p1 == p2 && p2 == p3 && p3 == p4 && (pad = p1) >= 0,
                "dilations" => ints is [1, 1],
                "output_padding" => ints is [0, 0],
                "group" => Protobuf.Varint(attribute, AttributeInt) == 1,
                "auto_pad" => Protobuf.String(attribute, AttributeString) is "NOTSET",
                _ => false, // output_shape, or anything else: leave the layer alone
            };
            if (!ok) return null;
        }
        return (kernel, stride, pad);
    }

    private static bool IsDefaultDomain(Node node) => node.Domain is "" or "ai.onnx";

    /// <summary>Whether <paramref name="tensor"/> goes to <paramref name="consumer"/> only (and is no graph output).</summary>
    private static bool OnlyFeeds(string tensor, Node consumer, Dictionary<string, List<Node>> consumers, HashSet<string> protectedNames) =>
        !protectedNames.Contains(tensor) && consumers.TryGetValue(tensor, out var list) && list.All(n => n.Index == consumer.Index)
        && consumer.Inputs.Count(i => i == tensor) == 1;

    /// <summary>A float32 initializer held in the file (not an overridable graph input, not external data), or null.</summary>
    private static Weight? Float(string name, Dictionary<string, ReadOnlyMemory<byte>> initializers, HashSet<string> protectedNames)
    {
        if (protectedNames.Contains(name) || !initializers.TryGetValue(name, out var tensor)) return null;
        var fields = Protobuf.Fields(tensor);
        if (Protobuf.Varint(tensor, TensorDataType) != TensorFloat || Protobuf.Varint(tensor, TensorDataLocation) is not (null or 0)) return null;
        var dims = Protobuf.RepeatedVarints(tensor, TensorDims);
        if (dims.Any(d => d < 0)) return null;
        var count = dims.Aggregate(1L, (a, d) => a * d);
        var data = fields.FirstOrDefault(f => f.Number == TensorRawData && f.WireType == 2).Bytes;
        if (data.Length == 0) data = fields.FirstOrDefault(f => f.Number == TensorFloatData && f.WireType == 2).Bytes;
        if (count == 0 || data.Length != count * sizeof(float)) return null;
        var values = new float[count];
        for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(data.Span.Slice(i * sizeof(float)));
        return new Weight([.. dims], values);
    }

    private static (List<Protobuf.Writer> Nodes, List<Protobuf.Writer> Initializers) Build(Pair pair, string p)
    {
        var nodes = new List<Protobuf.Writer>();
        var initializers = new List<Protobuf.Writer>();
        int cin = (int)pair.W1.Dims[0], c = (int)pair.W1.Dims[1], c2 = (int)pair.W2.Dims[1];
        var phases = new List<string>();
        for (var a = 0; a < 2; a++)
        {
            for (var b = 0; b < 2; b++)
            {
                // Phase (a, b): window row j (0, 1) takes kernel row 3 − a − 2j; likewise for columns.
                var kernel = new float[c * cin * 4];
                for (var o = 0; o < c; o++)
                    for (var i = 0; i < cin; i++)
                        for (var j = 0; j < 2; j++)
                            for (var l = 0; l < 2; l++)
                                kernel[((o * cin + i) * 2 + j) * 2 + l] = pair.W1.Values[((i * c + o) * 4 + (3 - a - 2 * j)) * 4 + (3 - b - 2 * l)];
                var name = $"{p}phase{a}{b}";
                initializers.Add(Tensor(name + "/weight", kernel, c, cin, 2, 2));
                var inputs = new List<string> { pair.First.Inputs[0], name + "/weight" };
                if (pair.B1 is not null)
                {
                    initializers.Add(Tensor(name + "/bias", pair.B1.Values, c));
                    inputs.Add(name + "/bias");
                }
                nodes.Add(NewNode("Conv", name, inputs, name,
                    Ints("kernel_shape", 2, 2), Ints("pads", 1 - a, 1 - b, a, b), Ints("strides", 1, 1), Ints("dilations", 1, 1), Int("group", 1)));
                if (pair.Activation is not null) name = Activated(nodes, pair.Activation, name);
                phases.Add(name);
            }
        }
        nodes.Add(NewNode("Concat", p + "phases", phases, p + "phases", Int("axis", 1)));

        // The last layer over the stacked phases: phase (a, b)'s channels see W2 shifted by (2a, 2b) in a 6×6 kernel.
        var last = new float[4 * c * c2 * 36];
        for (var a = 0; a < 2; a++)
            for (var b = 0; b < 2; b++)
                for (var i = 0; i < c; i++)
                    for (var o = 0; o < c2; o++)
                        for (var y = 0; y < 4; y++)
                            for (var x = 0; x < 4; x++)
                                last[((((a * 2 + b) * c + i) * c2 + o) * 6 + 2 * a + y) * 6 + 2 * b + x] = pair.W2.Values[((i * c2 + o) * 4 + y) * 4 + x];
        initializers.Add(Tensor(p + "last/weight", last, 4 * c, c2, 6, 6));
        var lastInputs = new List<string> { p + "phases", p + "last/weight" };
        if (pair.B2 is not null)
        {
            initializers.Add(Tensor(p + "last/bias", pair.B2.Values, c2));
            lastInputs.Add(p + "last/bias");
        }
        nodes.Add(NewNode("ConvTranspose", p + "last", lastInputs, pair.Last.Outputs[0],
            Ints("kernel_shape", 6, 6), Ints("strides", 4, 4), Ints("pads", 1, 1, 1, 1), Ints("dilations", 1, 1), Int("group", 1)));
        return (nodes, initializers);
    }

    private static Node ReadNode(int index, ReadOnlyMemory<byte> bytes)
    {
        var fields = Protobuf.Fields(bytes);
        string Text(Protobuf.Field f) => System.Text.Encoding.UTF8.GetString(f.Bytes.Span);
        return new Node(index, Protobuf.String(bytes, NodeName) ?? "", Protobuf.String(bytes, NodeOpType) ?? "", Protobuf.String(bytes, NodeDomain) ?? "",
            [.. fields.Where(f => f.Number == NodeInput && f.WireType == 2).Select(Text)],
            [.. fields.Where(f => f.Number == NodeOutput && f.WireType == 2).Select(Text)],
            [.. fields.Where(f => f.Number == NodeAttribute && f.WireType == 2).Select(f => f.Bytes)]);
    }

    private static long[] Ints(ReadOnlyMemory<byte> attribute) => [.. Protobuf.RepeatedVarints(attribute, AttributeInts)];

    private static Protobuf.Writer Tensor(string name, float[] values, params long[] dims)
    {
        var tensor = new Protobuf.Writer();
        foreach (var dim in dims) tensor.Varint(TensorDims, dim);
        tensor.Varint(TensorDataType, TensorFloat).String(TensorName, name);
        var bytes = new byte[values.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(bytes);
        else for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        return tensor.Bytes(TensorRawData, bytes);
    }

    private static Protobuf.Writer NewNode(string opType, string name, IEnumerable<string> inputs, string output, params Protobuf.Writer[] attributes)
    {
        var node = new Protobuf.Writer();
        foreach (var input in inputs) node.String(NodeInput, input);
        node.String(NodeOutput, output).String(NodeName, name).String(NodeOpType, opType);
        foreach (var attribute in attributes) node.Message(NodeAttribute, attribute);
        return node;
    }

    private static Protobuf.Writer Ints(string name, params long[] values)
    {
        var attribute = new Protobuf.Writer().String(AttributeName, name);
        foreach (var value in values) attribute.Varint(AttributeInts, value);
        return attribute.Varint(AttributeType, AttributeTypeInts);
    }

    private static Protobuf.Writer Text(string name, string value) =>
        new Protobuf.Writer().String(AttributeName, name).String(AttributeString, value).Varint(AttributeType, AttributeTypeString);

    private static Protobuf.Writer Int(string name, long value) =>
        new Protobuf.Writer().String(AttributeName, name).Varint(AttributeInt, value).Varint(AttributeType, AttributeTypeInt);
}
