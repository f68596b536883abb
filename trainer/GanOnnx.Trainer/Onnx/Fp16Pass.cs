using Google.Protobuf;
using GanOnnx.Trainer.Onnx.Proto;
using DataType = GanOnnx.Trainer.Onnx.Proto.TensorProto.Types.DataType;

namespace GanOnnx.Trainer.Onnx;

/// <summary>
/// Turns a float32 graph into a float16 one that keeps float32 at its edges: weights become float16, the latent input is
/// cast to float16 before its first use, and the last tensor is cast back to float32. Nodes named in
/// <c>float32Readers</c> keep reading the float32 input (the slice that picks a latent class: rounding the latent to
/// float16 before comparing it with the class thresholds could pick another class, and so another kind of image, than
/// the float32 model).
/// </summary>
internal static class Fp16Pass
{
    /// <summary>Applies the pass; returns the name of the float32 tensor that is now the graph's last.</summary>
    public static string Apply(GraphBuilder graph, string input, string last, IReadOnlySet<string>? float32Readers = null)
    {
        foreach (var tensor in graph.Graph.Initializer)
        {
            if (!graph.Weights.Contains(tensor.Name)) continue;
            var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span);
            var halves = new Half[floats.Length];
            for (var i = 0; i < floats.Length; i++) halves[i] = (Half)floats[i];
            tensor.DataType = (int)DataType.Float16;
            tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(halves.AsSpan()));
        }

        // Every consumer of the float32 input reads its float16 cast instead.
        var castIn = input + "_fp16";
        foreach (var node in graph.Graph.Node.Where(n => float32Readers?.Contains(n.Name) != true))
            for (var i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == input) node.Input[i] = castIn;
        var cast = new NodeProto { OpType = "Cast", Name = castIn };
        cast.Input.Add(input);
        cast.Output.Add(castIn);
        cast.Attribute.Add(GraphBuilder.Attr("to", (long)DataType.Float16));
        graph.Graph.Node.Insert(0, cast);

        return graph.Node("Cast", "to_float32", [last], GraphBuilder.Attr("to", (long)DataType.Float));
    }
}
