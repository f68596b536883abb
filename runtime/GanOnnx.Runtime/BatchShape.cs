namespace GanOnnx.Runtime;

/// <summary>The argument checks <see cref="ImageBatch"/> and <see cref="PixelBatch"/> share.</summary>
internal static class BatchShape
{
    /// <summary>
    /// Throws when a batch of <paramref name="count"/> images of channels × height × width values does not fit in
    /// <paramref name="length"/> values (<paramref name="unit"/> names them) or its labels are not one per image.
    /// </summary>
    public static void Check(long length, string unit, int count, int channels, int height, int width, long[]? labels, string valuesName)
    {
        Guard.NonNegative(count);
        Guard.Positive(channels);
        Guard.Positive(height);
        Guard.Positive(width);
        if (length < (long)count * channels * height * width)
            throw new ArgumentException($"{valuesName} has {length} {unit}; {count} images of {channels}×{height}×{width} need {(long)count * channels * height * width}.", valuesName);
        if (labels is not null && labels.Length != count)
            throw new ArgumentException($"labels has {labels.Length} entries; the batch has {count} images.", nameof(labels));
    }
}
