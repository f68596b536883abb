using System.Buffers.Binary;
using System.Numerics;
using Google.Protobuf;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// Writes TensorBoard event files (<c>events.out.tfevents.*</c>): TFRecord framing (length, masked CRC-32C, data, masked
/// CRC-32C) around Event protos holding scalar summaries. Point <c>tensorboard --logdir</c> at the folder.
/// </summary>
public sealed class TensorBoardWriter : IDisposable
{
    private readonly FileStream _file;

    /// <summary>Creates a new event file in <paramref name="folder"/>.</summary>
    public TensorBoardWriter(string folder)
    {
        Directory.CreateDirectory(folder);
        var now = DateTimeOffset.UtcNow;
        Path = System.IO.Path.Combine(folder, $"events.out.tfevents.{now.ToUnixTimeSeconds()}.{Environment.MachineName}.{Environment.ProcessId}");
        _file = new FileStream(Path, FileMode.Create, FileAccess.Write, FileShare.Read);
        WriteRecord(Event(now, step: 0, fileVersion: "brain.Event:2", summary: null));
    }

    /// <summary>The event file.</summary>
    public string Path { get; }

    /// <summary>Writes scalars for one step (tag → value) and flushes.</summary>
    public void Scalars(long step, IEnumerable<KeyValuePair<string, double>> values)
    {
        using var summary = new MemoryStream();
        var output = new CodedOutputStream(summary);
        foreach (var (tag, value) in values)
        {
            using var entry = new MemoryStream();
            var entryOutput = new CodedOutputStream(entry);
            entryOutput.WriteTag(1, WireFormat.WireType.LengthDelimited);
            entryOutput.WriteString(tag);
            entryOutput.WriteTag(2, WireFormat.WireType.Fixed32);
            entryOutput.WriteFloat((float)value);
            entryOutput.Flush();
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(entry.ToArray()));
        }
        output.Flush();
        WriteRecord(Event(DateTimeOffset.UtcNow, step, fileVersion: null, summary.ToArray()));
        _file.Flush();
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();

    /// <summary>CRC-32C (Castagnoli) of <paramref name="data"/>.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    /// <summary>TFRecord's masked CRC: rotate right by 15 and add a constant.</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        var crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    private static byte[] Event(DateTimeOffset time, long step, string? fileVersion, byte[]? summary)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(1, WireFormat.WireType.Fixed64);
        output.WriteDouble(time.ToUnixTimeMilliseconds() / 1000.0);
        output.WriteTag(2, WireFormat.WireType.Varint);
        output.WriteInt64(step);
        if (fileVersion is not null)
        {
            output.WriteTag(3, WireFormat.WireType.LengthDelimited);
            output.WriteString(fileVersion);
        }
        if (summary is not null)
        {
            output.WriteTag(5, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(summary));
        }
        output.Flush();
        return stream.ToArray();
    }

    private void WriteRecord(byte[] data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc(header[..8]));
        _file.Write(header);
        _file.Write(data);
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc(data));
        _file.Write(footer);
    }
}
