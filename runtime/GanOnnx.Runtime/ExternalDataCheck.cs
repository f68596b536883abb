using System.Text;

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
    public static void Check(string modelPath, ReadOnlySpan<byte> model)
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
    public static List<string> Locations(ReadOnlySpan<byte> model)
    {
        var result = new List<string>();
        foreach (var (field, graph) in LengthDelimited(model))
        {
            if (field != ModelGraph) continue;
            foreach (var (gField, item) in LengthDelimited(graph))
            {
                if (gField == GraphInitializer) TensorLocations(item, result);
                else if (gField == GraphNode)
                    foreach (var (nField, attribute) in LengthDelimited(item))
                        if (nField == NodeAttribute)
                            foreach (var (aField, tensor) in LengthDelimited(attribute))
                                if (aField is AttributeTensor or AttributeTensors) TensorLocations(tensor, result);
            }
        }
        return result;
    }

    private static void TensorLocations(ReadOnlySpan<byte> tensor, List<string> result)
    {
        foreach (var (field, entry) in LengthDelimited(tensor))
        {
            if (field != TensorExternalData) continue;
            string? key = null, value = null;
            foreach (var (eField, text) in LengthDelimited(entry))
            {
                if (eField == EntryKey) key = Encoding.UTF8.GetString(text);
                else if (eField == EntryValue) value = Encoding.UTF8.GetString(text);
            }
            if (key == "location" && value is not null) result.Add(value);
        }
    }

    /// <summary>The length-delimited fields of a message (other wire types are skipped).</summary>
    private static List<(int Field, byte[] Bytes)> LengthDelimited(ReadOnlySpan<byte> message)
    {
        var fields = new List<(int, byte[])>();
        var pos = 0;
        while (pos < message.Length)
        {
            var tag = ReadVarint(message, ref pos);
            var field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0: ReadVarint(message, ref pos); break;
                case 1: pos += 8; break;
                case 5: pos += 4; break;
                case 2:
                    var length = (long)ReadVarint(message, ref pos);
                    if (length < 0 || pos + length > message.Length) throw new GanOnnxException("the ONNX file is truncated or corrupt (a field runs past its end).");
                    fields.Add((field, message.Slice(pos, (int)length).ToArray()));
                    pos += (int)length;
                    break;
                default:
                    throw new GanOnnxException($"the ONNX file is corrupt (unknown protobuf wire type {tag & 7}).");
            }
        }
        if (pos > message.Length) throw new GanOnnxException("the ONNX file is truncated or corrupt.");
        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (pos >= data.Length) throw new GanOnnxException("the ONNX file is truncated or corrupt (a number runs past its end).");
            var b = data[pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new GanOnnxException("the ONNX file is corrupt (a number is too long).");
    }
}
