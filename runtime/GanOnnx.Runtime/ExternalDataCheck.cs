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

    /// <summary>
    /// Throws <see cref="GanOnnxException"/> when an external data location of the model file at
    /// <paramref name="modelPath"/> escapes its folder. Reads only the file's structure: initializers' data is skipped.
    /// </summary>
    public static void Check(string modelPath)
    {
        var folder = Path.GetFullPath(Path.GetDirectoryName(Path.GetFullPath(modelPath))!);
        List<string> locations;
        try
        {
            locations = Locations(modelPath);
        }
        catch (GanOnnxException ex)
        {
            throw new GanOnnxException($"'{modelPath}' could not be loaded as an ONNX model: {ex.Message}", ex);
        }
        foreach (var location in locations)
        {
            var resolved = Path.GetFullPath(Path.Combine(folder, location));
            var inside = resolved.StartsWith(folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);
            if (Path.IsPathRooted(location) || !inside)
                throw new GanOnnxException($"'{modelPath}' refers to external data '{location}' outside its own folder; refusing to load it.");
        }
    }

    /// <summary>Every external-data location in the model file (empty for a self-contained file).</summary>
    public static List<string> Locations(string modelPath)
    {
        using var stream = File.OpenRead(modelPath);
        var result = new List<string>();
        foreach (var graph in Protobuf.Fields(stream, 0, stream.Length).Where(f => f.Number == ModelGraph))
        {
            foreach (var item in Protobuf.Fields(stream, graph.Offset, graph.Offset + graph.Length))
            {
                if (item.Number == GraphInitializer) TensorLocations(stream, item, result);
                else if (item.Number == GraphNode)
                    foreach (var attribute in Protobuf.Fields(stream, item.Offset, item.Offset + item.Length).Where(f => f.Number == NodeAttribute))
                        foreach (var tensor in Protobuf.Fields(stream, attribute.Offset, attribute.Offset + attribute.Length))
                            if (tensor.Number is AttributeTensor or AttributeTensors) TensorLocations(stream, tensor, result);
            }
        }
        return result;
    }

    private static void TensorLocations(Stream stream, Protobuf.StreamField tensor, List<string> result)
    {
        foreach (var entry in Protobuf.Fields(stream, tensor.Offset, tensor.Offset + tensor.Length).Where(f => f.Number == TensorExternalData))
        {
            var bytes = Protobuf.Read(stream, entry).AsMemory();
            if (Protobuf.String(bytes, EntryKey) == "location" && Protobuf.String(bytes, EntryValue) is { } value) result.Add(value);
        }
    }
}
