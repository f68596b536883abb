namespace GanOnnx.Runtime;

/// <summary>
/// Images produced by a generator, as float32 NCHW in the model's <see cref="ValueRange"/>. Owns its pixel array.
/// </summary>
public sealed class ImageBatch
{
    /// <summary>Wraps pixel data; <paramref name="pixels"/> must hold at least count × channels × height × width floats.</summary>
    public ImageBatch(float[] pixels, int count, int channels, int height, int width, ValueRange valueRange, long seed = 0, long startIndex = 0, long[]? labels = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        BatchShape.Check(pixels.LongLength, "floats", count, channels, height, width, labels, nameof(pixels));
        Pixels = pixels;
        Count = count;
        Channels = channels;
        Height = height;
        Width = width;
        ValueRange = valueRange;
        Seed = seed;
        StartIndex = startIndex;
        Labels = labels;
    }

    /// <summary>Pixel values, NCHW.</summary>
    public float[] Pixels { get; }
    /// <summary>Number of images.</summary>
    public int Count { get; }
    /// <summary>Channels per image (1 or 3).</summary>
    public int Channels { get; }
    /// <summary>Height in pixels.</summary>
    public int Height { get; }
    /// <summary>Width in pixels.</summary>
    public int Width { get; }
    /// <summary>Range of the values (maps to 0…255 when encoded).</summary>
    public ValueRange ValueRange { get; }
    /// <summary>Seed the latents came from (0 for caller-supplied latents).</summary>
    public long Seed { get; }
    /// <summary>Index of the first image's latent.</summary>
    public long StartIndex { get; }
    /// <summary>Class label of each image, for conditional models; otherwise null.</summary>
    public long[]? Labels { get; }

    /// <summary>Floats in one image.</summary>
    public int ValuesPerImage => Channels * Height * Width;

    /// <summary>The pixels of image <paramref name="i"/> (a view; valid as long as the batch).</summary>
    public ReadOnlySpan<float> Image(int i)
    {
        if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(i), i, $"image index must be in [0, {Count}).");
        return Pixels.AsSpan(i * ValuesPerImage, ValuesPerImage);
    }
}
