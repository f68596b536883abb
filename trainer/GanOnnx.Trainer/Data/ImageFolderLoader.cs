using System.Collections.Concurrent;
using System.Diagnostics;
using GanOnnx.Runtime;
using SkiaSharp;

namespace GanOnnx.Trainer.Data;

/// <summary>What to do with a file that is not a readable image.</summary>
public enum BadImagePolicy
{
    /// <summary>Refuse the dataset, naming the file (the default).</summary>
    Fail,
    /// <summary>Skip it and report its name.</summary>
    Skip,
}

/// <summary>
/// Loads a folder of the user's own images (PNG, JPEG, WebP, BMP, GIF; any size, grayscale or colour) into an
/// <see cref="ImageDataset"/>: each image is resized so that its shorter side is the target size, centre-cropped to a
/// square, and converted to grayscale or RGB. Subfolders are classes (sorted by name); images directly in the folder form
/// one class. Decoding runs on all cores.
/// </summary>
public static class ImageFolderLoader
{
    private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif" };

    /// <summary>What a load did.</summary>
    public sealed record Report(int Loaded, IReadOnlyList<string> Skipped, TimeSpan Elapsed)
    {
        /// <summary>Images decoded and prepared per second.</summary>
        public double ImagesPerSecond => Loaded / Math.Max(Elapsed.TotalSeconds, 1e-9);
    }

    /// <summary>
    /// Whether <paramref name="folder"/> is a folder of images to load with this class rather than an IDX dataset: it holds
    /// image files and no IDX image files (a prepared dataset may have sample images beside its IDX files).
    /// </summary>
    public static bool IsImageFolder(string folder) =>
        Directory.Exists(folder)
        && Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Any(f => Extensions.Contains(Path.GetExtension(f)))
        && !Directory.EnumerateFiles(folder, "*idx3-ubyte*").Concat(Directory.EnumerateFiles(folder, "*idx4-ubyte*")).Any();

    /// <summary>
    /// A folder's images as 8-bit pixels (NCHW, channels × size × size each), in class order and, within a class, in file
    /// name order; <see cref="Classes"/> are the class folders' names (or the folder's own for a flat folder).
    /// </summary>
    public sealed record FolderImages(string Name, byte[] Pixels, byte[] Labels, int Count, int Channels, int Size, IReadOnlyList<string> Classes, Report Report);

    /// <summary>Loads the folder. Throws <see cref="TrainerException"/> for an empty folder or (with <see cref="BadImagePolicy.Fail"/>) an unreadable file.</summary>
    public static (ImageDataset Dataset, Report Report) Load(string folder, int size, int channels, ValueRange range, BadImagePolicy policy = BadImagePolicy.Fail)
    {
        var images = LoadPixels(folder, size, channels, policy);
        var dataset = ImageDataset.FromBytes(images.Name, images.Pixels, images.Labels, images.Count, channels, size, size, range, images.Classes);
        return (dataset, images.Report);
    }

    /// <summary>
    /// Loads the folder as 8-bit pixels, as <see cref="Load"/> does before scaling them to the model's value range (what
    /// <c>ganonnx-train data --from-folder</c> writes as IDX files).
    /// </summary>
    public static FolderImages LoadPixels(string folder, int size, int channels, BadImagePolicy policy = BadImagePolicy.Fail)
    {
        if (!Directory.Exists(folder)) throw new TrainerException($"Image folder '{folder}' does not exist.");
        if (size is < 4 or > 1024) throw new TrainerException($"The image size is {size}; it must be between 4 and 1024.");
        if (channels is not (1 or 3)) throw new TrainerException($"The channel count is {channels}; use 1 (grayscale) or 3 (RGB).");
        var stopwatch = Stopwatch.StartNew();

        var subfolders = Directory.GetDirectories(folder).Order(StringComparer.Ordinal).ToArray();
        var classes = new List<string>();
        var files = new List<(string Path, byte Label)>();
        foreach (var sub in subfolders)
        {
            var inside = Directory.EnumerateFiles(sub, "*", SearchOption.AllDirectories).Where(f => Extensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal).ToList();
            if (inside.Count == 0) continue;
            if (classes.Count == 255) throw new TrainerException($"'{folder}' has more than 255 class folders; the trainer supports at most 255 classes from folders.");
            foreach (var f in inside) files.Add((f, (byte)classes.Count));
            classes.Add(Path.GetFileName(sub));
        }
        var top = Directory.EnumerateFiles(folder).Where(f => Extensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal).ToList();
        if (top.Count > 0)
        {
            if (classes.Count > 0)
                throw new TrainerException($"'{folder}' has images both directly inside it and in class subfolders; put every image in a class folder, or none.");
            foreach (var f in top) files.Add((f, 0));
            classes.Add(ImageDataset.NameOf(folder));
        }
        if (files.Count == 0) throw new TrainerException($"'{folder}' holds no images (PNG, JPEG, WebP, BMP or GIF).");

        var imageBytes = size * size * channels;
        var pixels = new byte[files.Count * imageBytes];
        var ok = new bool[files.Count];
        var bad = new ConcurrentBag<string>();
        Parallel.For(0, files.Count, i =>
        {
            if (Prepare(files[i].Path, size, channels, pixels.AsSpan(i * imageBytes, imageBytes))) ok[i] = true;
            else bad.Add(files[i].Path);
        });
        var skipped = bad.Order(StringComparer.Ordinal).ToList();
        if (skipped.Count > 0 && policy == BadImagePolicy.Fail)
            throw new TrainerException($"{skipped.Count} file(s) in '{folder}' are not readable images, e.g. '{skipped[0]}'. Fix or remove them, or skip them (BadImagePolicy.Skip).");

        var kept = Enumerable.Range(0, files.Count).Where(i => ok[i]).ToArray();
        if (kept.Length == 0) throw new TrainerException($"None of the {files.Count} files in '{folder}' is a readable image.");
        var packed = new byte[kept.Length * imageBytes];
        var labels = new byte[kept.Length];
        for (var k = 0; k < kept.Length; k++)
        {
            pixels.AsSpan(kept[k] * imageBytes, imageBytes).CopyTo(packed.AsSpan(k * imageBytes));
            labels[k] = files[kept[k]].Label;
        }
        return new FolderImages(ImageDataset.NameOf(folder), packed, labels, kept.Length, channels, size, classes, new Report(kept.Length, skipped, stopwatch.Elapsed));
    }

    /// <summary>
    /// Decodes, resizes (shorter side to <paramref name="size"/>), centre-crops and converts one image into NCHW bytes.
    /// False for a file that is not an image or does not decode completely (a truncated PNG or JPEG decodes its first
    /// rows and leaves the rest blank, which must not reach training).
    /// </summary>
    private static bool Prepare(string path, int size, int channels, Span<byte> destination)
    {
        using var decoded = DecodeCompletely(path);
        if (decoded is null) return false;
        var scale = (float)size / Math.Min(decoded.Width, decoded.Height);
        var width = Math.Max(size, (int)Math.Round(decoded.Width * scale));
        var height = Math.Max(size, (int)Math.Round(decoded.Height * scale));
        using var square = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(square))
        using (var paint = new SKPaint { FilterQuality = SKFilterQuality.High, IsAntialias = true })
        {
            canvas.Clear(SKColors.Black);
            var left = (size - width) / 2f;
            var top = (size - height) / 2f;
            canvas.DrawBitmap(decoded, new SKRect(left, top, left + width, top + height), paint);
        }
        var plane = size * size;
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                var c = square.GetPixel(x, y);
                var p = y * size + x;
                if (channels == 1)
                {
                    destination[p] = (byte)Math.Clamp((int)Math.Round(0.299 * c.Red + 0.587 * c.Green + 0.114 * c.Blue), 0, 255);
                }
                else
                {
                    destination[p] = c.Red;
                    destination[plane + p] = c.Green;
                    destination[2 * plane + p] = c.Blue;
                }
            }
        }
        return true;
    }

    /// <summary>The whole image, or null when the file is not an image or its data ends (or is corrupt) before the last pixel.</summary>
    private static SKBitmap? DecodeCompletely(string path)
    {
        using var codec = SKCodec.Create(path);
        if (codec is null || codec.Info.Width <= 0 || codec.Info.Height <= 0) return null;
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        if (codec.GetPixels(info, bitmap.GetPixels()) == SKCodecResult.Success) return bitmap;
        bitmap.Dispose();
        return null;
    }
}
