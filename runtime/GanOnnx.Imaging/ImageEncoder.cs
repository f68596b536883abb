using GanOnnx.Runtime;
using SkiaSharp;

namespace GanOnnx.Imaging;

/// <summary>
/// Turns generator output (float NCHW in the model's value range) into 8-bit images and encodes them with SkiaSharp.
/// Grayscale stays 8-bit gray; RGB is written opaque. Values outside the range are clamped.
/// </summary>
public static class ImageEncoder
{
    /// <summary>File extension (with the dot) for a format.</summary>
    public static string Extension(ImageFileFormat format) => format switch
    {
        ImageFileFormat.Png => ".png",
        ImageFileFormat.Jpeg => ".jpg",
        ImageFileFormat.Webp => ".webp",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "format must be Png, Jpeg or Webp."),
    };

    /// <summary>Maps one image (channels × height × width floats in <paramref name="range"/>) to a new bitmap.</summary>
    public static SKBitmap ToBitmap(ReadOnlySpan<float> pixels, int channels, int height, int width, ValueRange range)
    {
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be 1 (grayscale) or 3 (RGB).");
        if (pixels.Length != channels * height * width)
            throw new ArgumentException($"pixels has {pixels.Length} floats; {channels}×{height}×{width} needs {channels * height * width}.", nameof(pixels));

        var info = channels == 1
            ? new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque)
            : new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var bitmap = new SKBitmap(info);
        try
        {
            var plane = height * width;
            Span<byte> bytes;
            unsafe
            {
                bytes = new Span<byte>((void*)bitmap.GetPixels(), info.BytesSize);
            }
            var rowBytes = info.RowBytes;
            for (var y = 0; y < height; y++)
            {
                var row = bytes.Slice(y * rowBytes);
                for (var x = 0; x < width; x++)
                {
                    var p = y * width + x;
                    if (channels == 1)
                    {
                        row[x] = ToByte(pixels[p], range);
                    }
                    else
                    {
                        row[x * 4] = ToByte(pixels[p], range);
                        row[x * 4 + 1] = ToByte(pixels[plane + p], range);
                        row[x * 4 + 2] = ToByte(pixels[2 * plane + p], range);
                        row[x * 4 + 3] = 255;
                    }
                }
            }
            return bitmap;
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }

    /// <summary>Maps a value in <paramref name="range"/> to 0…255, clamping and rounding to nearest.</summary>
    public static byte ToByte(float value, ValueRange range)
    {
        var t = (value - range.Min) / (range.Max - range.Min);
        if (!(t > 0f)) return 0; // also NaN
        if (t >= 1f) return 255;
        return (byte)(t * 255f + 0.5f);
    }

    /// <summary>Encodes a bitmap into <paramref name="destination"/>. Quality 1…100 applies to JPEG and WebP.</summary>
    public static void Encode(SKBitmap bitmap, Stream destination, ImageFileFormat format = ImageFileFormat.Png, int quality = 95)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        ArgumentNullException.ThrowIfNull(destination);
        if (quality is < 1 or > 100)
            throw new ArgumentOutOfRangeException(nameof(quality), quality, "quality must be between 1 and 100.");
        var skFormat = format switch
        {
            ImageFileFormat.Png => SKEncodedImageFormat.Png,
            ImageFileFormat.Jpeg => SKEncodedImageFormat.Jpeg,
            ImageFileFormat.Webp => SKEncodedImageFormat.Webp,
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "format must be Png, Jpeg or Webp."),
        };
        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(skFormat, quality)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode a {bitmap.Width}×{bitmap.Height} {bitmap.ColorType} image as {format}.");
        data.SaveTo(destination);
    }

    /// <summary>Encodes image <paramref name="index"/> of <paramref name="batch"/> to bytes.</summary>
    public static byte[] Encode(ImageBatch batch, int index, ImageFileFormat format = ImageFileFormat.Png, int quality = 95)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var bitmap = ToBitmap(batch.Image(index), batch.Channels, batch.Height, batch.Width, batch.ValueRange);
        using var stream = new MemoryStream();
        Encode(bitmap, stream, format, quality);
        return stream.ToArray();
    }

    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="path"/> atomically: a temporary file in the same folder that is
    /// renamed into place, so a crash never leaves a partial file under the final name.
    /// </summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> bytes)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..8] + ".partial");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: false);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Encodes image <paramref name="index"/> of <paramref name="batch"/> and writes it atomically to <paramref name="path"/>.</summary>
    public static void Save(ImageBatch batch, int index, string path, ImageFileFormat format = ImageFileFormat.Png, int quality = 95) =>
        WriteAtomically(path, Encode(batch, index, format, quality));
}
