using System.Buffers.Binary;
using System.IO.Compression;

namespace GanOnnx.Trainer.Data;

/// <summary>
/// Reads and writes IDX files (the format of MNIST, Fashion-MNIST and EMNIST), plain or gzip-compressed.
/// Only unsigned-byte data is supported: rank 3 for grayscale images (count, rows, columns), rank 4 for colour images
/// (count, channels, rows, columns: planes, as the trainer's tensors; the files are named <c>*-images-idx4-ubyte</c>),
/// rank 1 for labels.
/// </summary>
public static class IdxFile
{
    private const byte UnsignedByte = 0x08;

    /// <summary>Images as bytes, count × channels × rows × columns (channels 1 for an IDX3 file).</summary>
    public sealed record Images(byte[] Pixels, int Count, int Rows, int Columns, int Channels = 1);

    /// <summary>Reads an IDX3 (grayscale) or IDX4 (colour) image file. Throws <see cref="TrainerException"/> naming the file and the problem.</summary>
    public static Images ReadImages(string path)
    {
        var (dims, data) = Read(path, 3, 4);
        return dims.Length == 3 ? new Images(data, dims[0], dims[1], dims[2]) : new Images(data, dims[0], dims[2], dims[3], dims[1]);
    }

    /// <summary>Reads an IDX1 label file.</summary>
    public static byte[] ReadLabels(string path) => Read(path, 1, 1).Data;

    /// <summary>Reads images and labels and checks that they agree in count.</summary>
    public static (Images Images, byte[] Labels) ReadPair(string imagesPath, string labelsPath)
    {
        var images = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (labels.Length != images.Count)
            throw new TrainerException($"'{imagesPath}' holds {images.Count} images but '{labelsPath}' holds {labels.Length} labels; they must be the same count.");
        return (images, labels);
    }

    /// <summary>
    /// Writes an image file (gzip when the name ends in .gz), atomically: IDX3 for one channel, IDX4 (count, channels, rows,
    /// columns) for more.
    /// </summary>
    public static void WriteImages(string path, ReadOnlySpan<byte> pixels, int count, int rows, int columns, int channels = 1)
    {
        if (pixels.Length != (long)count * channels * rows * columns)
            throw new ArgumentException($"pixels has {pixels.Length} bytes; {count}×{channels}×{rows}×{columns} needs {(long)count * channels * rows * columns}.", nameof(pixels));
        Write(path, channels == 1 ? [count, rows, columns] : [count, channels, rows, columns], pixels);
    }

    /// <summary>Writes an IDX1 label file (gzip when the name ends in .gz), atomically.</summary>
    public static void WriteLabels(string path, ReadOnlySpan<byte> labels) => Write(path, [labels.Length], labels);

    private static (int[] Dims, byte[] Data) Read(string path, int minRank, int maxRank)
    {
        if (!File.Exists(path)) throw new TrainerException($"IDX file '{path}' does not exist.");
        try
        {
            // Streamed: the header's promise is checked (with checked arithmetic, against what one array can hold and, for
            // a plain file, against its length) before any data is read, so a crafted or gzip-bomb header costs nothing.
            using var file = File.OpenRead(path);
            var gzip = IsGzip(file);
            using var stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
            var magic = ReadFully(stream, 4);
            if (magic.Length < 4)
                throw new TrainerException($"'{path}' is truncated: {magic.Length} bytes, too short for an IDX header.");
            if (magic[0] != 0 || magic[1] != 0)
                throw new TrainerException($"'{path}' is not an IDX file: bad magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(magic):X8} (expected 0x0000080{minRank}).");
            if (magic[2] != UnsignedByte)
                throw new TrainerException($"'{path}' holds IDX data of type 0x{magic[2]:X2}; only unsigned bytes (0x08) are supported.");
            int rank = magic[3];
            if (rank < minRank || rank > maxRank)
                throw new TrainerException($"'{path}' has {rank} dimensions; expected {(minRank == maxRank ? $"{minRank}" : $"{minRank} or {maxRank}")} ({(minRank > 1 ? "an image file" : "a label file")}). Are the image and label files swapped?");
            var header = 4 + 4 * rank;
            var dimBytes = ReadFully(stream, 4 * rank);
            if (dimBytes.Length < 4 * rank)
                throw new TrainerException($"'{path}' is truncated: the header needs {header} bytes, the file has {4 + dimBytes.Length}.");

            var dims = new int[rank];
            long total = 1;
            for (var i = 0; i < rank; i++)
            {
                var d = BinaryPrimitives.ReadInt32BigEndian(dimBytes.AsSpan(4 * i));
                if (d <= 0) throw new TrainerException($"'{path}' has a non-positive dimension {d} in its header.");
                dims[i] = d;
                total = total > Array.MaxLength / d ? long.MaxValue : total * d;
            }
            if (total > Array.MaxLength)
                throw new TrainerException($"'{path}' has a header of {string.Join(" × ", dims)}, more than the {Array.MaxLength:N0} bytes one dataset file may hold; the file is corrupt.");
            if (!gzip && file.Length - header != total)
                throw new TrainerException(file.Length - header < total
                    ? $"'{path}' is truncated: its header promises {total} bytes of data, the file has {file.Length - header}."
                    : $"'{path}' has {file.Length - header - total} bytes beyond what its header describes; the file is corrupt.");
            var data = ReadFully(stream, (int)total);
            if (data.Length < total)
                throw new TrainerException($"'{path}' is truncated: its header promises {total} bytes of data, the file has {data.Length}.");
            if (gzip && stream.ReadByte() >= 0)
                throw new TrainerException($"'{path}' has bytes beyond what its header describes; the file is corrupt.");
            return (dims, data);
        }
        catch (InvalidDataException ex)
        {
            throw new TrainerException($"'{path}' is not a valid gzip file: {ex.Message}", ex);
        }
    }

    /// <summary>Reads up to <paramref name="count"/> bytes (fewer only at the end of the stream).</summary>
    private static byte[] ReadFully(Stream stream, int count)
    {
        var buffer = new byte[count];
        var read = stream.ReadAtLeast(buffer, count, throwOnEndOfStream: false);
        return read == count ? buffer : buffer.AsSpan(0, read).ToArray();
    }

    private static void Write(string path, int[] dims, ReadOnlySpan<byte> data)
    {
        var header = new byte[4 + 4 * dims.Length];
        header[2] = UnsignedByte;
        header[3] = (byte)dims.Length;
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), dims[i]);

        var gzip = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        var bytes = data.ToArray(); // the lambda cannot capture a span
        AtomicFile.Write(path, file =>
        {
            using var stream = gzip ? new GZipStream(file, CompressionLevel.Optimal, leaveOpen: true) : null;
            var target = (Stream?)stream ?? file;
            target.Write(header);
            target.Write(bytes);
        });
    }

    private static bool IsGzip(FileStream file)
    {
        var gzip = file.ReadByte() == 0x1F && file.ReadByte() == 0x8B;
        file.Position = 0;
        return gzip;
    }
}
