using System.Buffers.Binary;
using System.IO.Compression;

namespace GanOnnx.Trainer.Data;

/// <summary>
/// Reads and writes IDX files (the format of MNIST, Fashion-MNIST and EMNIST), plain or gzip-compressed.
/// Only unsigned-byte data is supported: rank 3 for images (count, rows, columns), rank 1 for labels.
/// </summary>
public static class IdxFile
{
    private const byte UnsignedByte = 0x08;

    /// <summary>Images as bytes, row-major, count × rows × columns.</summary>
    public sealed record Images(byte[] Pixels, int Count, int Rows, int Columns);

    /// <summary>Reads an IDX3 image file. Throws <see cref="TrainerException"/> naming the file and the problem.</summary>
    public static Images ReadImages(string path)
    {
        var (dims, data) = Read(path, expectedRank: 3);
        return new Images(data, dims[0], dims[1], dims[2]);
    }

    /// <summary>Reads an IDX1 label file.</summary>
    public static byte[] ReadLabels(string path) => Read(path, expectedRank: 1).Data;

    /// <summary>Reads images and labels and checks that they agree in count.</summary>
    public static (Images Images, byte[] Labels) ReadPair(string imagesPath, string labelsPath)
    {
        var images = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (labels.Length != images.Count)
            throw new TrainerException($"'{imagesPath}' holds {images.Count} images but '{labelsPath}' holds {labels.Length} labels; they must be the same count.");
        return (images, labels);
    }

    /// <summary>Writes an IDX3 image file (gzip when the name ends in .gz), atomically.</summary>
    public static void WriteImages(string path, ReadOnlySpan<byte> pixels, int count, int rows, int columns)
    {
        if (pixels.Length != (long)count * rows * columns)
            throw new ArgumentException($"pixels has {pixels.Length} bytes; {count}×{rows}×{columns} needs {(long)count * rows * columns}.", nameof(pixels));
        Write(path, [count, rows, columns], pixels);
    }

    /// <summary>Writes an IDX1 label file (gzip when the name ends in .gz), atomically.</summary>
    public static void WriteLabels(string path, ReadOnlySpan<byte> labels) => Write(path, [labels.Length], labels);

    private static (int[] Dims, byte[] Data) Read(string path, int expectedRank)
    {
        if (!File.Exists(path)) throw new TrainerException($"IDX file '{path}' does not exist.");
        byte[] bytes;
        try
        {
            bytes = IsGzip(path) ? Gunzip(path) : File.ReadAllBytes(path);
        }
        catch (InvalidDataException ex)
        {
            throw new TrainerException($"'{path}' is not a valid gzip file: {ex.Message}", ex);
        }

        if (bytes.Length < 4)
            throw new TrainerException($"'{path}' is truncated: {bytes.Length} bytes, too short for an IDX header.");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new TrainerException($"'{path}' is not an IDX file: bad magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(bytes):X8} (expected 0x0000080{expectedRank}).");
        if (bytes[2] != UnsignedByte)
            throw new TrainerException($"'{path}' holds IDX data of type 0x{bytes[2]:X2}; only unsigned bytes (0x08) are supported.");
        int rank = bytes[3];
        if (rank != expectedRank)
            throw new TrainerException($"'{path}' has {rank} dimensions; expected {expectedRank} ({(expectedRank == 3 ? "an image file" : "a label file")}). Are the image and label files swapped?");
        var header = 4 + 4 * rank;
        if (bytes.Length < header)
            throw new TrainerException($"'{path}' is truncated: the header needs {header} bytes, the file has {bytes.Length}.");

        var dims = new int[rank];
        long total = 1;
        for (var i = 0; i < rank; i++)
        {
            var d = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (d <= 0) throw new TrainerException($"'{path}' has a non-positive dimension {d} in its header.");
            dims[i] = d;
            total *= d;
        }
        var available = bytes.Length - header;
        if (available < total)
            throw new TrainerException($"'{path}' is truncated: its header promises {total} bytes of data, the file has {available}.");
        if (available > total)
            throw new TrainerException($"'{path}' has {available - total} bytes beyond what its header describes; the file is corrupt.");
        return (dims, bytes.AsSpan(header).ToArray());
    }

    private static void Write(string path, int[] dims, ReadOnlySpan<byte> data)
    {
        var header = new byte[4 + 4 * dims.Length];
        header[2] = UnsignedByte;
        header[3] = (byte)dims.Length;
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), dims[i]);

        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".partial";
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
            using (Stream stream = full.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Optimal) : file)
            {
                stream.Write(header);
                stream.Write(data);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static bool IsGzip(string path)
    {
        using var file = File.OpenRead(path);
        return file.ReadByte() == 0x1F && file.ReadByte() == 0x8B;
    }

    private static byte[] Gunzip(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        gzip.CopyTo(buffer);
        return buffer.ToArray();
    }
}
