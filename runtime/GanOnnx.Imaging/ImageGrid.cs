using GanOnnx.Runtime;
using SkiaSharp;

namespace GanOnnx.Imaging;

/// <summary>Lays a batch out as one image: a grid of tiles with padding between them.</summary>
public static class ImageGrid
{
    /// <summary>
    /// Draws the images of <paramref name="batch"/> into a grid with <paramref name="columns"/> columns (0 = as square as
    /// possible) and <paramref name="padding"/> pixels between tiles, on a background of <paramref name="background"/>.
    /// Grayscale batches give a grayscale grid, RGB an RGB one. The caller disposes the bitmap.
    /// </summary>
    public static SKBitmap Compose(ImageBatch batch, int columns = 0, int padding = 2, byte background = 0)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) throw new ArgumentException("a grid needs at least one image.", nameof(batch));
        if (columns < 0) throw new ArgumentOutOfRangeException(nameof(columns), columns, "columns must be 0 (automatic) or more.");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be 0 or more.");
        if (columns == 0) columns = (int)Math.Ceiling(Math.Sqrt(batch.Count));
        columns = Math.Min(columns, batch.Count);
        var rows = (batch.Count + columns - 1) / columns;
        var width = columns * batch.Width + (columns + 1) * padding;
        var height = rows * batch.Height + (rows + 1) * padding;

        var info = batch.Channels == 1
            ? new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque)
            : new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var grid = new SKBitmap(info);
        try
        {
            using var canvas = new SKCanvas(grid);
            canvas.Clear(new SKColor(background, background, background));
            for (var i = 0; i < batch.Count; i++)
            {
                using var tile = ImageEncoder.ToBitmap(batch.Image(i), batch.Channels, batch.Height, batch.Width, batch.ValueRange);
                var x = padding + (i % columns) * (batch.Width + padding);
                var y = padding + (i / columns) * (batch.Height + padding);
                canvas.DrawBitmap(tile, x, y);
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

    /// <summary>Composes a grid and writes it atomically as a file of <paramref name="format"/>.</summary>
    public static void Save(ImageBatch batch, string path, int columns = 0, int padding = 2, ImageFileFormat format = ImageFileFormat.Png)
    {
        using var grid = Compose(batch, columns, padding);
        using var stream = new MemoryStream();
        ImageEncoder.Encode(grid, stream, format);
        ImageEncoder.WriteAtomically(path, stream.GetBuffer().AsSpan(0, (int)stream.Length));
    }
}
