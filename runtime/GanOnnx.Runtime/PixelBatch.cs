namespace GanOnnx.Runtime;

/// <summary>
/// Images as 8-bit pixels (0…255), mapped from the model's value range inside the graph
/// (<see cref="GeneratorOptions.PixelOutput"/>), in <see cref="Layout"/>. Owns its byte array.
/// </summary>
public sealed class PixelBatch
{
    /// <summary>Wraps pixel bytes; <paramref name="pixels"/> must hold at least count × channels × height × width bytes.</summary>
    public PixelBatch(byte[] pixels, int count, int channels, int height, int width, PixelLayout layout, long seed = 0, long startIndex = 0, long[]? labels = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (layout is not (PixelLayout.Nhwc or PixelLayout.Nchw))
            throw new ArgumentOutOfRangeException(nameof(layout), layout, "layout must be Nhwc or Nchw.");
        BatchShape.Check(pixels.LongLength, "bytes", count, channels, height, width, labels, nameof(pixels));
        Pixels = pixels;
        Count = count;
        Channels = channels;
        Height = height;
        Width = width;
        Layout = layout;
        Seed = seed;
        StartIndex = startIndex;
        Labels = labels;
    }

    /// <summary>The bytes, image after image, each in <see cref="Layout"/>.</summary>
    public byte[] Pixels { get; }
    /// <summary>Number of images.</summary>
    public int Count { get; }
    /// <summary>Channels per image (1 or 3).</summary>
    public int Channels { get; }
    /// <summary>Height in pixels.</summary>
    public int Height { get; }
    /// <summary>Width in pixels.</summary>
    public int Width { get; }
    /// <summary>NHWC (interleaved) or NCHW (planes).</summary>
    public PixelLayout Layout { get; }
    /// <summary>Seed the latents came from.</summary>
    public long Seed { get; }
    /// <summary>Index of the first image's latent.</summary>
    public long StartIndex { get; }
    /// <summary>Class of each image (conditional models, or a latent class asked for); otherwise null.</summary>
    public long[]? Labels { get; }

    /// <summary>Bytes in one image.</summary>
    public int ValuesPerImage => Channels * Height * Width;

    /// <summary>The bytes of image <paramref name="i"/> (a view; valid as long as the batch).</summary>
    public ReadOnlySpan<byte> Image(int i)
    {
        if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(i), i, $"image index must be in [0, {Count}).");
        return Pixels.AsSpan(i * ValuesPerImage, ValuesPerImage);
    }
}
