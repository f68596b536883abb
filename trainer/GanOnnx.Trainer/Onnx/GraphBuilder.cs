using Google.Protobuf;
using GanOnnx.Trainer.Onnx.Proto;

namespace GanOnnx.Trainer.Onnx;

/// <summary>Accumulates the nodes and initializers of an ONNX graph with readable, unique names.</summary>
internal sealed class GraphBuilder
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public GraphProto Graph { get; } = new() { Name = "generator" };

    /// <summary>Float initializers that are weights (converted by the fp16 pass); shape-like constants are not listed.</summary>
    public HashSet<string> Weights { get; } = new(StringComparer.Ordinal);

    /// <summary>Adds a float32 weight (weights, biases) and returns its name.</summary>
    public string Initializer(string name, float[] values, params long[] dims)
    {
        var added = Constant(name, values, dims);
        Weights.Add(added);
        return added;
    }

    /// <summary>Adds a float32 constant that must stay float32 (e.g. Resize scales) and returns its name.</summary>
    public string Constant(string name, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds an int64 constant (shapes) and returns its name.</summary>
    public string Initializer(string name, long[] values)
    {
        var tensor = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a node named <paramref name="name"/> whose single output is also called <paramref name="name"/>.</summary>
    public string Node(string opType, string name, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Unique(name) };
        node.Input.AddRange(inputs);
        node.Output.Add(node.Name);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return node.Name;
    }

    /// <summary>Renames the output of the node that produces <paramref name="tensor"/> (used to call the last one "image").</summary>
    public void RenameOutput(string tensor, string newName)
    {
        foreach (var node in Graph.Node)
        {
            for (var i = 0; i < node.Output.Count; i++)
            {
                if (node.Output[i] == tensor)
                {
                    node.Output[i] = newName;
                    _names.Add(newName);
                    return;
                }
            }
        }
        throw new InvalidOperationException($"no node produces '{tensor}'.");
    }

    public static AttributeProto Attr(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Attr(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Attr(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Attr(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static ValueInfoProto Value(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d switch
            {
                string param => new TensorShapeProto.Types.Dimension { DimParam = param },
                int value => new TensorShapeProto.Types.Dimension { DimValue = value },
                long value => new TensorShapeProto.Types.Dimension { DimValue = value },
                _ => throw new ArgumentException($"dimension {d} is neither a name nor a number."),
            });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private string Unique(string name)
    {
        var candidate = name;
        for (var i = 2; !_names.Add(candidate); i++) candidate = $"{name}_{i}";
        return candidate;
    }
}
