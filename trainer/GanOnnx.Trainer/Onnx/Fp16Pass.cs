using Google.Protobuf;
using GanOnnx.Trainer.Onnx.Proto;
using DataType = GanOnnx.Trainer.Onnx.Proto.TensorProto.Types.DataType;

namespace GanOnnx.Trainer.Onnx;

/// <summary>
/// Turns a float32 graph into a float16 one that keeps float32 at its edges: weights become float16, the latent input is
/// cast to float16 before its first use, and the last tensor is cast back to float32.
/// </summary>
internal static class Fp16Pass
{
    /// <summary>Applies the pass; returns the name of the float32 tensor that is now the graph's last.</summary>
    public static string Apply(GraphBuilder graph, string input, string last)
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
        foreach (var node in graph.Graph.Node)
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
