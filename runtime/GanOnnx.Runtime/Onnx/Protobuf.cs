using System.Buffers.Binary;
using System.Text;

namespace GanOnnx.Runtime.Onnx;

/// <summary>
/// Just enough of the protobuf wire format to read an ONNX file's fields and to write the few messages the runtime adds
/// to a model (<see cref="PixelGraph"/>). Needs no protobuf library; every read is bounds-checked and a malformed file
/// becomes a <see cref="GanOnnxException"/>.
/// </summary>
internal static class Protobuf
{
    /// <summary>One field: its number, its wire type, its varint value (wire type 0) or its bytes (wire type 2).</summary>
    public readonly record struct Field(int Number, int WireType, ulong Varint, ReadOnlyMemory<byte> Bytes);

    /// <summary>The fields of a message, in file order (fixed 32/64-bit fields are skipped).</summary>
    public static List<Field> Fields(ReadOnlyMemory<byte> message)
    {
        var fields = new List<Field>();
        var span = message.Span;
        var pos = 0;
        while (pos < span.Length)
        {
            var tag = ReadVarint(span, ref pos);
            var number = (int)(tag >> 3);
            var wireType = (int)(tag & 7);
            switch (wireType)
            {
                case 0: fields.Add(new Field(number, 0, ReadVarint(span, ref pos), default)); break;
                case 1: pos += 8; break;
                case 5: pos += 4; break;
                case 2:
                    var length = ReadVarint(span, ref pos);
                    if (length > (ulong)(span.Length - pos)) throw new GanOnnxException("the ONNX file is truncated or corrupt (a field runs past its end).");
                    fields.Add(new Field(number, 2, 0, message.Slice(pos, (int)length)));
                    pos += (int)length;
                    break;
                default:
                    throw new GanOnnxException($"the ONNX file is corrupt (unknown protobuf wire type {wireType}).");
            }
        }
        if (pos > span.Length) throw new GanOnnxException("the ONNX file is truncated or corrupt.");
        return fields;
    }

    /// <summary>The length-delimited fields numbered <paramref name="number"/>.</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int number) =>
        Fields(message).Where(f => f.Number == number && f.WireType == 2).Select(f => f.Bytes);

    /// <summary>The first string field numbered <paramref name="number"/>, or null.</summary>
    public static string? String(ReadOnlyMemory<byte> message, int number) =>
        Messages(message, number).Select(b => Encoding.UTF8.GetString(b.Span)).FirstOrDefault();

    /// <summary>The first varint field numbered <paramref name="number"/>, or null.</summary>
    public static ulong? Varint(ReadOnlyMemory<byte> message, int number) =>
        Fields(message).Where(f => f.Number == number && f.WireType == 0).Select(f => (ulong?)f.Varint).FirstOrDefault();

    /// <summary>
    /// The values of the repeated integer field numbered <paramref name="number"/>, whether written one field per value
    /// (proto2's default) or packed into one length-delimited field (proto3's).
    /// </summary>
    public static List<long> RepeatedVarints(ReadOnlyMemory<byte> message, int number)
    {
        var values = new List<long>();
        foreach (var field in Fields(message).Where(f => f.Number == number))
        {
            if (field.WireType == 0)
            {
                values.Add((long)field.Varint);
                continue;
            }
            var span = field.Bytes.Span;
            for (var pos = 0; pos < span.Length;) values.Add((long)ReadVarint(span, ref pos));
        }
        return values;
    }

    /// <summary>A length-delimited field found in a stream: where its bytes start and how many there are.</summary>
    public readonly record struct StreamField(int Number, long Offset, long Length);

    /// <summary>
    /// The length-delimited fields of the message in <paramref name="stream"/> between <paramref name="start"/> and
    /// <paramref name="end"/>, found by seeking over their contents: a model's gigabytes of weights are never read.
    /// </summary>
    public static List<StreamField> Fields(Stream stream, long start, long end)
    {
        var fields = new List<StreamField>();
        stream.Position = start;
        while (stream.Position < end)
        {
            var tag = ReadVarint(stream);
            var wireType = (int)(tag & 7);
            switch (wireType)
            {
                case 0: ReadVarint(stream); break;
                case 1: stream.Seek(8, SeekOrigin.Current); break;
                case 5: stream.Seek(4, SeekOrigin.Current); break;
                case 2:
                    var length = ReadVarint(stream);
                    if (length > (ulong)(end - stream.Position)) throw new GanOnnxException("the ONNX file is truncated or corrupt (a field runs past its end).");
                    fields.Add(new StreamField((int)(tag >> 3), stream.Position, (long)length));
                    stream.Seek((long)length, SeekOrigin.Current);
                    break;
                default:
                    throw new GanOnnxException($"the ONNX file is corrupt (unknown protobuf wire type {wireType}).");
            }
        }
        if (stream.Position > end) throw new GanOnnxException("the ONNX file is truncated or corrupt.");
        return fields;
    }

    /// <summary>The bytes of a field found by <see cref="Fields(Stream, long, long)"/> (for small fields only).</summary>
    public static byte[] Read(Stream stream, StreamField field)
    {
        var bytes = new byte[field.Length];
        stream.Position = field.Offset;
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static ulong ReadVarint(Stream stream)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = stream.ReadByte();
            if (b < 0) throw new GanOnnxException("the ONNX file is truncated or corrupt (a number runs past its end).");
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new GanOnnxException("the ONNX file is corrupt (a number is too long).");
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

    /// <summary>Writes protobuf fields into a growing buffer.</summary>
    public sealed class Writer
    {
        private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new();

        public Writer Varint(int number, long value)
        {
            WriteRaw(((ulong)number << 3) | 0);
            WriteRaw((ulong)value);
            return this;
        }

        public Writer Bytes(int number, ReadOnlySpan<byte> bytes)
        {
            WriteRaw(((ulong)number << 3) | 2);
            WriteRaw((ulong)bytes.Length);
            System.Buffers.BuffersExtensions.Write(_buffer, bytes);
            return this;
        }

        public Writer String(int number, string text) => Bytes(number, Encoding.UTF8.GetBytes(text));

        /// <summary>A field read by <see cref="Fields(ReadOnlyMemory{byte})"/>, written again as it was.</summary>
        public Writer Field(Field field) => field.WireType == 0 ? Varint(field.Number, (long)field.Varint) : Bytes(field.Number, field.Bytes.Span);

        public Writer Message(int number, Writer message) => Bytes(number, message._buffer.WrittenSpan);

        /// <summary>A float32 as 4 little-endian bytes in a length-delimited field (TensorProto.raw_data).</summary>
        public Writer RawFloat(int number, float value)
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
            return Bytes(number, bytes);
        }

        public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

        private void WriteRaw(ulong value)
        {
            var span = _buffer.GetSpan(10);
            var n = 0;
            while (value >= 0x80)
            {
                span[n++] = (byte)(value | 0x80);
                value >>= 7;
            }
            span[n++] = (byte)value;
            _buffer.Advance(n);
        }
    }
}
