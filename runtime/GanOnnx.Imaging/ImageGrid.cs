using GanOnnx.Runtime;
using SkiaSharp;

namespace GanOnnx.Imaging;

/// <summary>Lays a batch out as one image: a grid of tiles with padding between them.</summary>
public static class ImageGrid
{
    /// <summary>Height in pixels of the caption strip under each tile when labels are drawn.</summary>
    public const int CaptionHeight = 14;

    /// <summary>
    /// Draws the images of <paramref name="batch"/> into a grid with <paramref name="columns"/> columns (0 = as square as
    /// possible) and <paramref name="padding"/> pixels between tiles, on a background of <paramref name="background"/>.
    /// With <paramref name="labels"/> (one per image), each tile gets a caption strip beneath it. Grayscale batches
    /// without labels give a grayscale grid, anything else an RGB one. The caller disposes the bitmap.
    /// </summary>
    public static SKBitmap Compose(ImageBatch batch, int columns = 0, int padding = 2, byte background = 0, IReadOnlyList<string>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (labels is not null && labels.Count != batch.Count)
            throw new ArgumentException($"labels has {labels.Count} entries; the batch has {batch.Count} images.", nameof(labels));
        if (batch.Count == 0) throw new ArgumentException("a grid needs at least one image.", nameof(batch));
        var (width, height) = CheckedSize(null, batch.Count, batch.Width, batch.Height, columns, padding, captions: labels is not null);
        columns = (int)ColumnsFor(batch.Count, columns);
        var caption = labels is null ? 0 : CaptionHeight;

        var info = batch.Channels == 1 && labels is null
            ? new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque)
            : new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var grid = new SKBitmap(info);
        try
        {
            using var canvas = new SKCanvas(grid);
            canvas.Clear(new SKColor(background, background, background));
            using var text = new SKPaint { Color = background < 128 ? SKColors.White : SKColors.Black, TextSize = 10, IsAntialias = true, TextAlign = SKTextAlign.Center };
            for (var i = 0; i < batch.Count; i++)
            {
                using var tile = ImageEncoder.ToBitmap(batch.Image(i), batch.Channels, batch.Height, batch.Width, batch.ValueRange);
                var x = padding + (i % columns) * (batch.Width + padding);
                var y = padding + (i / columns) * (batch.Height + caption + padding);
                canvas.DrawBitmap(tile, x, y);
                if (labels is not null) DrawCaption(canvas, text, labels[i], x, y + batch.Height, batch.Width);
            }
            canvas.Flush();
            return grid;
        }
        catch
        {
            grid.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Width and height in pixels of the grid <see cref="Compose"/> makes of <paramref name="count"/> tiles of
    /// <paramref name="tileWidth"/> × <paramref name="tileHeight"/> (with a caption strip under each when
    /// <paramref name="captions"/>), so that a caller can check a grid before making its images.
    /// </summary>
    public static (long Width, long Height) Size(long count, int tileWidth, int tileHeight, int columns = 0, int padding = 2, bool captions = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (columns < 0) throw new ArgumentOutOfRangeException(nameof(columns), columns, "columns must be 0 (automatic) or more.");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be 0 or more.");
        var cols = ColumnsFor(count, columns);
        var rows = (count + cols - 1) / cols;
        return (cols * tileWidth + (cols + 1) * padding, rows * (tileHeight + (captions ? CaptionHeight : 0)) + (rows + 1) * padding);
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/>, naming the sizes, when the grid of <see cref="Size"/> is larger than one
    /// bitmap holds or than <paramref name="format"/> can be written in (<see cref="ImageEncoder.MaxDimension"/>), so
    /// that a caller can refuse a grid before it makes the images.
    /// </summary>
    public static void CheckWritable(ImageFileFormat format, long count, int tileWidth, int tileHeight, int columns = 0, int padding = 2, bool captions = false) =>
        CheckedSize(format, count, tileWidth, tileHeight, columns, padding, captions);

    private static (int Width, int Height) CheckedSize(ImageFileFormat? format, long count, int tileWidth, int tileHeight, int columns, int padding, bool captions)
    {
        var (width, height) = Size(count, tileWidth, tileHeight, columns, padding, captions);
        string What() => $"a grid of {count:N0} images of {tileWidth}×{tileHeight} in {ColumnsFor(count, columns):N0} columns would be {width:N0}×{height:N0} pixels";
        if (width > int.MaxValue || height > int.MaxValue || width * height > int.MaxValue / 4)
            throw new ArgumentException($"{What()}, more than one bitmap holds (2^31 bytes).");
        if (format is { } chosen && Math.Max(width, height) > ImageEncoder.MaxDimension(chosen))
            throw new ArgumentException($"{What()}; {chosen} images can be at most {ImageEncoder.MaxDimension(chosen):N0} on a side.");
        return ((int)width, (int)height);
    }

    /// <summary>The columns a grid of <paramref name="count"/> tiles gets: as asked (at most one per tile), or 0 = as square as possible.</summary>
    private static long ColumnsFor(long count, int columns) => Math.Min(columns == 0 ? (long)Math.Ceiling(Math.Sqrt(count)) : columns, count);

    /// <summary>
    /// Draws a caption centred under a tile and kept inside it: a text too wide for the tile is drawn smaller (down to 7
    /// px), then shortened with an ellipsis, and clipped to the tile's strip, so it never runs into its neighbours.
    /// </summary>
    private static void DrawCaption(SKCanvas canvas, SKPaint paint, string caption, int x, int top, int width)
    {
        const float Largest = 10, Smallest = 7;
        var room = Math.Max(1, width - 2);
        paint.TextSize = Largest;
        var measured = paint.MeasureText(caption);
        if (measured > room) paint.TextSize = Math.Max(Smallest, Largest * room / measured);
        var shown = caption;
        while (shown.Length > 1 && paint.MeasureText(shown) > room)
            shown = shown[..^(shown.EndsWith('…') ? 2 : 1)].TrimEnd() + "…";
        canvas.Save();
        canvas.ClipRect(new SKRect(x, top, x + width, top + CaptionHeight));
        canvas.DrawText(shown, x + width / 2f, top + CaptionHeight - 3, paint);
        canvas.Restore();
    }

    /// <summary>
    /// Composes a grid (with optional captions) and writes it atomically, in <paramref name="format"/> or, when that is
    /// null, the format the file name asks for (<c>.png</c>, <c>.jpg</c>, <c>.webp</c>: <see cref="ImageEncoder.FormatOf"/>).
    /// </summary>
    public static void Save(ImageBatch batch, string path, int columns = 0, int padding = 2, ImageFileFormat? format = null, IReadOnlyList<string>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var chosen = format ?? ImageEncoder.FormatOf(path);
        if (batch.Count > 0) CheckWritable(chosen, batch.Count, batch.Width, batch.Height, columns, padding, captions: labels is not null);
        using var grid = Compose(batch, columns, padding, labels: labels);
        ImageEncoder.Save(grid, path, chosen);
    }
}
