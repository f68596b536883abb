using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using GanOnnx.Runtime;

namespace GanOnnx.Imaging;

/// <summary>
/// Writes 8-bit grayscale or RGB pixels as a PNG file without Skia, for batch export. Grayscale rows are not filtered
/// and RGB rows get the Paeth filter, then .NET's zlib deflates them at level 6 (Skia's level), or stores them for
/// <see cref="PngCompression.None"/>. Skia tries every filter on every row: for a generator's images that bought little
/// and cost most of its time. Measured on the shipped models' seed-42 images (2026-12-04, 64–72 each): the files are
/// 0.91–0.99× Skia's size for 28×28 grayscale and 1.02–1.03× for 64×64 RGB, written 3.8× (a digit: 12 against 47 µs)
/// and 1.45× (an emoji: 98 against 143 µs) as fast.
/// </summary>
internal static class PngWriter
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly uint[] CrcTable = MakeCrcTable();

    /// <summary>
    /// The PNG file of one image: <paramref name="channels"/> (1 or 3) × <paramref name="height"/> × <paramref name="width"/>
    /// bytes in <paramref name="layout"/>. Arguments are checked by the caller.
    /// </summary>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int channels, int height, int width, PixelLayout layout, PngCompression png)
    {
        var rowBytes = channels * width;
        var raw = ArrayPool<byte>.Shared.Rent(2 * rowBytes);          // this row and the one above, unfiltered
        var filtered = ArrayPool<byte>.Shared.Rent(height * (rowBytes + 1));
        try
        {
            var previous = raw.AsSpan(0, rowBytes);
            var current = raw.AsSpan(rowBytes, rowBytes);
            previous.Clear();
            for (var y = 0; y < height; y++)
            {
                Row(pixels, channels, height, width, layout, y, current);
                var output = filtered.AsSpan(y * (rowBytes + 1), rowBytes + 1);
                if (png == PngCompression.None || channels == 1)
                {
                    output[0] = 0; // no filter
                    current.CopyTo(output[1..]);
                }
                else
                {
                    PaethRow(current, previous, channels, output);
                }
                var swap = previous;
                previous = current;
                current = swap;
            }
            return Assemble(filtered.AsSpan(0, height * (rowBytes + 1)), channels, height, width,
                png == PngCompression.None ? CompressionLevel.NoCompression : CompressionLevel.Optimal);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
            ArrayPool<byte>.Shared.Return(filtered);
        }
    }

    /// <summary>Row <paramref name="y"/> as PNG wants it: gray bytes, or R, G, B interleaved.</summary>
    private static void Row(ReadOnlySpan<byte> pixels, int channels, int height, int width, PixelLayout layout, int y, Span<byte> row)
    {
        if (channels == 1 || layout == PixelLayout.Nhwc)
        {
            pixels.Slice(y * channels * width, channels * width).CopyTo(row);
            return;
        }
        var plane = height * width;
        var r = pixels.Slice(y * width, width);
        var g = pixels.Slice(plane + y * width, width);
        var b = pixels.Slice(2 * plane + y * width, width);
        for (var x = 0; x < width; x++)
        {
            row[3 * x] = r[x];
            row[3 * x + 1] = g[x];
            row[3 * x + 2] = b[x];
        }
    }

    /// <summary>Writes the Paeth filter's byte (4) and row: each byte less the left, upper or upper-left one nearest to left + up − upper-left.</summary>
    private static void PaethRow(ReadOnlySpan<byte> row, ReadOnlySpan<byte> above, int bpp, Span<byte> output)
    {
        output[0] = 4;
        var filtered = output[1..];
        for (var i = 0; i < row.Length; i++)
        {
            int left = i >= bpp ? row[i - bpp] : 0, up = above[i], upLeft = i >= bpp ? above[i - bpp] : 0;
            filtered[i] = (byte)(row[i] - Paeth(left, up, upLeft));
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static byte[] Assemble(ReadOnlySpan<byte> scanlines, int channels, int height, int width, CompressionLevel level)
    {
        using var zlib = new MemoryStream(scanlines.Length / 2 + 64);
        using (var deflate = new ZLibStream(zlib, level, leaveOpen: true)) deflate.Write(scanlines);
        var idat = zlib.GetBuffer().AsSpan(0, (int)zlib.Length);

        var file = new byte[Signature.Length + (12 + 13) + (12 + idat.Length) + 12];
        Signature.CopyTo(file, 0);
        var at = Signature.Length;
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;                               // bits per sample
        header[9] = (byte)(channels == 1 ? 0 : 2);   // grayscale or RGB
        header[10] = header[11] = header[12] = 0;    // deflate, adaptive filtering, no interlace
        at = Chunk(file, at, "IHDR"u8, header);
        at = Chunk(file, at, "IDAT"u8, idat);
        Chunk(file, at, "IEND"u8, []);
        return file;
    }

    private static int Chunk(byte[] file, int at, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(at), data.Length);
        type.CopyTo(file.AsSpan(at + 4));
        data.CopyTo(file.AsSpan(at + 8));
        var crc = Crc(Crc(0xFFFFFFFFu, type), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(at + 8 + data.Length), crc);
        return at + 12 + data.Length;
    }

    private static uint Crc(uint crc, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
