using GanOnnx.Runtime.Onnx;

namespace GanOnnx.Runtime;

/// <summary>
/// Reads just enough of an ONNX file's protobuf encoding to find the external-data locations of its initializers
/// (ModelProto.graph → GraphProto.initializer → TensorProto.external_data["location"]) and refuses any that would
/// leave the model's own folder. Needs no protobuf library.
/// </summary>
internal static class ExternalDataCheck
{
    private const int ModelGraph = 7, GraphInitializer = 5, GraphNode = 1, NodeAttribute = 5, AttributeTensor = 5, AttributeTensors = 10;
    private const int TensorExternalData = 13, EntryKey = 1, EntryValue = 2;

    /// <summary>Throws <see cref="GanOnnxException"/> when an external data location escapes <paramref name="modelPath"/>'s folder.</summary>
    public static void Check(string modelPath, ReadOnlyMemory<byte> model)
    {
        var folder = Path.GetFullPath(Path.GetDirectoryName(Path.GetFullPath(modelPath))!);
        foreach (var location in Locations(model))
        {
            var resolved = Path.GetFullPath(Path.Combine(folder, location));
            var inside = resolved.StartsWith(folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);
            if (Path.IsPathRooted(location) || !inside)
                throw new GanOnnxException($"'{modelPath}' refers to external data '{location}' outside its own folder; refusing to load it.");
        }
    }

    /// <summary>Every external-data location in the model (empty for a self-contained file).</summary>
    public static List<string> Locations(ReadOnlyMemory<byte> model)
    {
        var result = new List<string>();
        foreach (var graph in Protobuf.Messages(model, ModelGraph))
        {
            foreach (var item in Protobuf.Fields(graph))
            {
                if (item.WireType != 2) continue;
                if (item.Number == GraphInitializer) TensorLocations(item.Bytes, result);
                else if (item.Number == GraphNode)
                    foreach (var attribute in Protobuf.Messages(item.Bytes, NodeAttribute))
                        foreach (var tensor in Protobuf.Fields(attribute))
                            if (tensor.WireType == 2 && tensor.Number is AttributeTensor or AttributeTensors) TensorLocations(tensor.Bytes, result);
            }
        }
        return result;
    }

    private static void TensorLocations(ReadOnlyMemory<byte> tensor, List<string> result)
    {
        foreach (var entry in Protobuf.Messages(tensor, TensorExternalData))
        {
            if (Protobuf.String(entry, EntryKey) == "location" && Protobuf.String(entry, EntryValue) is { } value) result.Add(value);
        }
    }
}
