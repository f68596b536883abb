using GanOnnx.Imaging;
using GanOnnx.Runtime;
using SkiaSharp;

namespace GanOnnx.Runtime.Tests;

public class ImagingTests
{
    [Test]
    public void AGridIsCheckedAgainstItsFormatBeforeItIsMade()
    {
        // Size is what Compose makes; CheckWritable refuses what the format or one bitmap cannot hold.
        Assert.That(ImageGrid.Size(64, 28, 28), Is.EqualTo((8 * 28 + 9 * 2L, 8 * 28 + 9 * 2L)));
        Assert.That(ImageGrid.Size(3, 64, 64, columns: 8, padding: 0, captions: true), Is.EqualTo((3 * 64L, 64L + ImageGrid.CaptionHeight)));
        var batch = new ImageBatch(new float[5 * 28 * 28], 5, 1, 28, 28, ValueRange.Sigmoid);
        using (var grid = ImageGrid.Compose(batch, columns: 2))
            Assert.That((grid.Width, grid.Height), Is.EqualTo(ImageGrid.Size(5, 28, 28, columns: 2)));
        Assert.That(() => ImageGrid.CheckWritable(ImageFileFormat.Webp, 600, 28, 28, columns: 600), Throws.ArgumentException.With.Message.Contains("16,383"));
        Assert.That(() => ImageGrid.CheckWritable(ImageFileFormat.Png, 600, 28, 28, columns: 600), Throws.Nothing);
        Assert.That(() => ImageGrid.CheckWritable(ImageFileFormat.Png, 4_000_000, 28, 28), Throws.ArgumentException.With.Message.Contains("more than one bitmap holds"));
        Assert.That(() => ImageGrid.Save(new ImageBatch(new float[600 * 784], 600, 1, 28, 28, ValueRange.Sigmoid), Path.Combine(TestPaths.NewTempFolder(), "g.webp"), columns: 600),
            Throws.ArgumentException.With.Message.Contains("Webp images can be at most 16,383"));
    }

    [Test]
    public void ValuesMapFromTheModelRangeToBytes()
    {
        Assert.That(ImageEncoder.ToByte(-1f, ValueRange.Tanh), Is.EqualTo(0));
        Assert.That(ImageEncoder.ToByte(1f, ValueRange.Tanh), Is.EqualTo(255));
        Assert.That(ImageEncoder.ToByte(0f, ValueRange.Tanh), Is.EqualTo(128));
        Assert.That(ImageEncoder.ToByte(0.5f, ValueRange.Sigmoid), Is.EqualTo(128));
        Assert.That(ImageEncoder.ToByte(7f, ValueRange.Sigmoid), Is.EqualTo(255));
        Assert.That(ImageEncoder.ToByte(float.NaN, ValueRange.Sigmoid), Is.EqualTo(0));
    }

    [TestCase(ImageFileFormat.Png)]
    [TestCase(ImageFileFormat.Jpeg)]
    [TestCase(ImageFileFormat.Webp)]
    public void GrayscaleAndRgbImagesEncodeAndDecodeBack(ImageFileFormat format)
    {
        // A horizontal ramp, gray and RGB (red ramp, green constant, blue inverted).
        const int h = 8, w = 16;
        var gray = new float[h * w];
        var rgb = new float[3 * h * w];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                gray[y * w + x] = x / (w - 1f);
                rgb[y * w + x] = x / (w - 1f);
                rgb[h * w + y * w + x] = 0.5f;
                rgb[2 * h * w + y * w + x] = 1f - x / (w - 1f);
            }
        var tolerance = format == ImageFileFormat.Png ? 0 : 40;
        foreach (var (pixels, channels) in new[] { (gray, 1), (rgb, 3) })
        {
            var batch = new ImageBatch(pixels, 1, channels, h, w, ValueRange.Sigmoid);
            using var decoded = SKBitmap.Decode(ImageEncoder.Encode(batch, 0, format));
            Assert.That(decoded, Is.Not.Null);
            Assert.That((decoded.Width, decoded.Height), Is.EqualTo((w, h)));
            var left = decoded.GetPixel(0, 4);
            var right = decoded.GetPixel(w - 1, 4);
            Assert.That((int)left.Red, Is.EqualTo(0).Within(tolerance), $"{format} {channels}ch left red");
            Assert.That((int)right.Red, Is.EqualTo(255).Within(tolerance), $"{format} {channels}ch right red");
            if (channels == 3)
            {
                Assert.That((int)left.Blue, Is.EqualTo(255).Within(tolerance));
                Assert.That((int)left.Green, Is.EqualTo(128).Within(tolerance));
            }
        }
    }

    [TestCase(1, PixelLayout.Nchw, ImageFileFormat.Png)]
    [TestCase(3, PixelLayout.Nchw, ImageFileFormat.Png)]
    [TestCase(3, PixelLayout.Nhwc, ImageFileFormat.Png)]
    [TestCase(3, PixelLayout.Nhwc, ImageFileFormat.Jpeg)]
    public void TheBitmapFreeEncoderWritesTheSameFileAsABitmap(int channels, PixelLayout layout, ImageFileFormat format)
    {
        // Batch export encodes pixels without a native bitmap: a JPEG must be the file the bitmap path writes, a PNG (the
        // project's own writer) must decode to the same pixels.
        const int h = 9, w = 13;
        var random = new Random(5);
        var pixels = new byte[channels * h * w];
        random.NextBytes(pixels);
        using var bitmap = ImageEncoder.ToBitmap(pixels, channels, h, w, layout);
        using var expected = new MemoryStream();
        ImageEncoder.Encode(bitmap, expected, format, 90);

        var encoded = ImageEncoder.Encode(pixels, channels, h, w, layout, format, 90);
        if (format == ImageFileFormat.Jpeg)
            Assert.That(encoded, Is.EqualTo(expected.ToArray()));
        else
            Assert.That(Decoded(encoded), Is.EqualTo(Decoded(expected.ToArray())));
        Assert.That(() => ImageEncoder.Encode(pixels.AsSpan(1), channels, h, w, layout), Throws.ArgumentException.With.Message.Contains("needs"));
    }

    [Test]
    public void AGridPlacesTilesWithPadding()
    {
        var pixels = new float[4 * 2 * 2];
        for (var i = 0; i < 4; i++)
            for (var p = 0; p < 4; p++) pixels[i * 4 + p] = i / 3f;
        var batch = new ImageBatch(pixels, 4, 1, 2, 2, ValueRange.Sigmoid);
        using var grid = ImageGrid.Compose(batch, columns: 2, padding: 1);
        Assert.That((grid.Width, grid.Height), Is.EqualTo((2 * 2 + 3, 2 * 2 + 3)));
        Assert.That(grid.GetPixel(0, 0).Red, Is.EqualTo(0), "padding");
        Assert.That(grid.GetPixel(4, 1).Red, Is.EqualTo(85), "tile 1 (top right)");
        Assert.That(grid.GetPixel(4, 4).Red, Is.EqualTo(255), "tile 3 (bottom right)");
    }

    [Test]
    public void StoredPngTradesBytesForTimeAndKeepsThePixels()
    {
        var pixels = new float[3 * 32 * 32];
        var random = new Random(3);
        for (var i = 0; i < pixels.Length; i++) pixels[i] = (i % 32) / 31f * 0.7f + (float)random.NextDouble() * 0.3f;
        var batch = new ImageBatch(pixels, 1, 3, 32, 32, ValueRange.Sigmoid);
        var small = ImageEncoder.Encode(batch, 0);
        var none = ImageEncoder.Encode(batch, 0, png: PngCompression.None);
        // The default compresses (zlib 6, as Skia's own PNG encoding): the same pixels as Skia's file.
        using (var bitmap = ImageEncoder.ToBitmap(pixels, 3, 32, 32, ValueRange.Sigmoid))
        using (var skia = bitmap.Encode(SKEncodedImageFormat.Png, 100))
            Assert.That(Decoded(small), Is.EqualTo(Decoded(skia.ToArray())));
        Assert.That(none.Length, Is.GreaterThan(3 * 32 * 32), "stored: at least the raw pixels");
        Assert.That(small.Length, Is.LessThan(none.Length));
        using var reference = SKBitmap.Decode(small);
        using (var decoded = SKBitmap.Decode(none)) Assert.That(decoded.Bytes, Is.EqualTo(reference.Bytes));
        Assert.That(() => ImageEncoder.Encode(batch, 0, png: (PngCompression)9), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [TestCase("grid.png", ImageFileFormat.Png)]
    [TestCase("GRID.PNG", ImageFileFormat.Png)]
    [TestCase("grid", ImageFileFormat.Png)]
    [TestCase("grid.jpg", ImageFileFormat.Jpeg)]
    [TestCase("grid.JPEG", ImageFileFormat.Jpeg)]
    [TestCase("out.v2/grid.webp", ImageFileFormat.Webp)]
    public void TheFileNameChoosesTheFormat(string name, ImageFileFormat expected)
    {
        Assert.That(ImageEncoder.FormatOf(name), Is.EqualTo(expected));
        var batch = new ImageBatch(new float[2 * 3 * 4 * 4], 2, 3, 4, 4, ValueRange.Sigmoid);
        var path = Path.Combine(TestPaths.NewTempFolder(), name);
        ImageGrid.Save(batch, path);
        ImageEncoder.Save(batch, 1, path + "-single" + Path.GetExtension(name));
        foreach (var written in new[] { path, path + "-single" + Path.GetExtension(name) })
        {
            using var codec = SKCodec.Create(written);
            Assert.That(codec.EncodedFormat.ToString(), Is.EqualTo(expected.ToString()), written);
        }
        // An explicit format is what is written, whatever the name.
        ImageGrid.Save(batch, path, format: ImageFileFormat.Webp);
        using (var codec = SKCodec.Create(path)) Assert.That(codec.EncodedFormat, Is.EqualTo(SKEncodedImageFormat.Webp));
    }

    [TestCase("grid.bmp")]
    [TestCase("grid.gif")]
    [TestCase("grid.png.tmp")]
    public void AFileNameOfAnotherFormatIsRefusedAndNothingIsWritten(string name)
    {
        var folder = TestPaths.NewTempFolder();
        var batch = new ImageBatch(new float[16], 1, 1, 4, 4, ValueRange.Sigmoid);
        Assert.That(() => ImageGrid.Save(batch, Path.Combine(folder, name)),
            Throws.ArgumentException.With.Message.Contains($"ends in '{Path.GetExtension(name)}'").And.Message.Contains(".png, .jpg"));
        Assert.That(() => ImageEncoder.Save(batch, 0, Path.Combine(folder, name)), Throws.ArgumentException);
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty);
    }

    [Test]
    public void AtomicWritesLeaveNoPartialFiles()
    {
        var folder = TestPaths.NewTempFolder();
        var path = Path.Combine(folder, "a.png");
        AtomicFile.Write(path, new byte[] { 1, 2, 3 });
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(1));

        // Streamed: a writer that fails half-way leaves the old file whole and no temporary file.
        Assert.That(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[] { 9, 9 });
            throw new IOException("disk full");
        }), Throws.TypeOf<IOException>());
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(1));
        AtomicFile.Write(Path.Combine(folder, "new", "b.bin"), stream => stream.Write(new byte[] { 4, 5 }), flushToDisk: true);
        Assert.That(File.ReadAllBytes(Path.Combine(folder, "new", "b.bin")), Is.EqualTo(new byte[] { 4, 5 }));
    }

    /// <summary>Every pixel of an encoded image as RGBA bytes, decoded by Skia.</summary>
    internal static byte[] Decoded(byte[] file)
    {
        using var bitmap = SKBitmap.Decode(file) ?? throw new AssertionException("Skia cannot decode the file");
        using var rgba = new SKBitmap(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(rgba)) canvas.DrawBitmap(bitmap, 0, 0);
        return rgba.Bytes;
    }
}

public class ImageGridCaptionTests
{
    [Test]
    public void CaptionsAddAStripUnderEachTileWithText()
    {
        var pixels = new float[2 * 16 * 16];
        var batch = new ImageBatch(pixels, 2, 1, 16, 16, ValueRange.Sigmoid);
        using var plain = ImageGrid.Compose(batch, columns: 2, padding: 1);
        using var captioned = ImageGrid.Compose(batch, columns: 2, padding: 1, labels: ["seven", "8"]);
        Assert.That(captioned.Height, Is.EqualTo(plain.Height + ImageGrid.CaptionHeight));
        var lit = 0;
        for (var y = 1 + 16; y < 1 + 16 + ImageGrid.CaptionHeight; y++)
            for (var x = 0; x < captioned.Width; x++)
                if (captioned.GetPixel(x, y).Red > 100) lit++;
        Assert.That(lit, Is.GreaterThan(10), "the caption text is drawn");
        Assert.That(() => ImageGrid.Compose(batch, labels: ["only one"]), Throws.ArgumentException.With.Message.Contains("labels"));
    }

    [Test]
    public void ALongCaptionStaysUnderItsOwnTile()
    {
        // "Smileys & Emotion" under a 64-pixel emoji ran into the next tiles; now it shrinks, then ends in an ellipsis.
        var batch = new ImageBatch(new float[3 * 32 * 32], 3, 1, 32, 32, ValueRange.Sigmoid);
        using var grid = ImageGrid.Compose(batch, columns: 3, padding: 2, labels: ["", "Smileys & Emotion, and a long tail", ""]);
        int Lit(int fromX, int toX)
        {
            var lit = 0;
            for (var y = 2 + 32; y < 2 + 32 + ImageGrid.CaptionHeight; y++)
                for (var x = fromX; x < toX; x++)
                    if (grid.GetPixel(x, y).Red > 100) lit++;
            return lit;
        }
        var middle = 2 + 32 + 2;
        Assert.That(Lit(middle, middle + 32), Is.GreaterThan(10), "the caption is drawn under its tile");
        Assert.That(Lit(0, middle), Is.Zero, "nothing spills to the left");
        Assert.That(Lit(middle + 32, grid.Width), Is.Zero, "nothing spills to the right");
    }
}

/// <summary>The project's own PNG writer (the batch-export path): any decoder reads back exactly the pixels.</summary>
public class PngWriterTests
{
    public static IEnumerable<TestCaseData> Images()
    {
        foreach (var (c, h, w) in new[] { (1, 1, 1), (1, 28, 28), (3, 1, 7), (3, 64, 64), (3, 13, 9) })
            foreach (var layout in new[] { PixelLayout.Nchw, PixelLayout.Nhwc })
                foreach (var png in new[] { PngCompression.Small, PngCompression.None })
                    yield return new TestCaseData(c, h, w, layout, png).SetName($"{c}x{h}x{w} {layout} {png}");
    }

    [TestCaseSource(nameof(Images))]
    public void SkiaDecodesExactlyThePixelsWritten(int channels, int height, int width, PixelLayout layout, PngCompression png)
    {
        var random = new Random(height * 31 + width);
        var pixels = new byte[channels * height * width];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = i % 5 == 0 ? (byte)random.Next(256) : (byte)(i * 7);
        var file = ImageEncoder.Encode(pixels, channels, height, width, layout, ImageFileFormat.Png, png: png);
        using var decoded = SKBitmap.Decode(file) ?? throw new AssertionException("Skia cannot decode the file");
        Assert.That((decoded.Width, decoded.Height), Is.EqualTo((width, height)));
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var color = decoded.GetPixel(x, y);
                byte At(int ch) => layout == PixelLayout.Nhwc ? pixels[(y * width + x) * channels + ch] : pixels[(ch * height + y) * width + x];
                var expected = channels == 1 ? (At(0), At(0), At(0)) : (At(0), At(1), At(2));
                Assert.That((color.Red, color.Green, color.Blue), Is.EqualTo(expected), $"pixel ({x}, {y})");
            }
    }

    [TestCase("mnist-dcgan", 1.0)]
    [TestCase("emoji-dcgan", 1.05)]
    public void AGeneratorsImagesTakeAboutTheBytesSkiasEncoderWrites(string model, double most)
    {
        // Skia tries every row filter; the writer uses none (grayscale) or Paeth (RGB). On generated images that costs
        // at most a few per cent (measured 0.91–0.99× for the 28×28 models, 1.02–1.03× for the emoji), and gains speed.
        using var session = GeneratorSession.Load(Path.Combine(TestPaths.RepositoryRoot, "models", model, "model.onnx"));
        var batch = session.Generate(16, seed: 42);
        long ours = 0, skia = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            ours += ImageEncoder.Encode(batch, i).Length;
            using var bitmap = ImageEncoder.ToBitmap(batch.Image(i), batch.Channels, batch.Height, batch.Width, batch.ValueRange);
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            skia += data.Size;
            Assert.That(ImagingTests.Decoded(ImageEncoder.Encode(batch, i)), Is.EqualTo(ImagingTests.Decoded(data.ToArray())), $"image {i}");
        }
        Assert.That(ours, Is.LessThanOrEqualTo(most * skia), $"ours {ours} bytes, Skia's {skia}");
        Assert.That(ours, Is.LessThan(ImageEncoderStoredBytes(batch) / 2), "compressed");
    }

    private static long ImageEncoderStoredBytes(ImageBatch batch) =>
        Enumerable.Range(0, batch.Count).Sum(i => (long)ImageEncoder.Encode(batch, i, png: PngCompression.None).Length);
}
