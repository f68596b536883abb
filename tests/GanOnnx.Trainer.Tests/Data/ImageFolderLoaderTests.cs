using GanOnnx.Runtime;
using GanOnnx.Trainer.Data;
using SkiaSharp;

namespace GanOnnx.Trainer.Tests.Data;

public class ImageFolderLoaderTests
{
    private static void Write(string path, int width, int height, Func<int, int, SKColor> color, SKEncodedImageFormat format = SKEncodedImageFormat.Png, SKColorType type = SKColorType.Rgba8888)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, type, SKAlphaType.Opaque));
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++) bitmap.SetPixel(x, y, color(x, y));
        using var data = bitmap.Encode(format, 95);
        File.WriteAllBytes(path, data.ToArray());
    }

    private static string Folder()
    {
        var folder = TestData.NewTempFolder();
        // A wide image: red left third, green middle, blue right third. The centre crop keeps only green.
        Write(Path.Combine(folder, "cats", "wide.png"), 90, 30, (x, _) => x < 30 ? SKColors.Red : x < 60 ? SKColors.Lime : SKColors.Blue);
        Write(Path.Combine(folder, "cats", "small.jpg"), 5, 7, (_, _) => new SKColor(200, 200, 200), SKEncodedImageFormat.Jpeg);
        Write(Path.Combine(folder, "dogs", "gray.png"), 40, 40, (_, _) => new SKColor(100, 100, 100), type: SKColorType.Gray8);
        Write(Path.Combine(folder, "dogs", "nested", "tall.png"), 20, 60, (_, _) => SKColors.White);
        return folder;
    }

    [Test]
    public void ImagesAreResizedCroppedAndLabelledByFolder()
    {
        var (data, report) = ImageFolderLoader.Load(Folder(), 16, 3, ValueRange.Sigmoid);
        using (data)
        {
            Assert.That(report.Loaded, Is.EqualTo(4));
            Assert.That(report.ImagesPerSecond, Is.GreaterThan(0));
            Assert.That(data.ClassNames, Is.EqualTo(new[] { "cats", "dogs" }));
            Assert.That(data.Labels.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 0, 1, 1 }));
            Assert.That((data.Channels, data.Height, data.Width), Is.EqualTo((3, 16, 16)));
            // The wide image (cats/small.jpg sorts after wide? no: "small" < "wide") is image 1.
            var wide = data.Images[1];
            Assert.That(wide[0].mean().item<float>(), Is.LessThan(0.05f), "no red left after the centre crop");
            Assert.That(wide[1].mean().item<float>(), Is.GreaterThan(0.95f), "green fills the crop");
            Assert.That(wide[2].mean().item<float>(), Is.LessThan(0.05f), "no blue");
            Assert.That(data.Images[2].mean().item<float>(), Is.EqualTo(100 / 255f).Within(0.01f), "a grayscale file becomes equal RGB");
        }
    }

    [Test]
    public void GrayscaleOutputUsesLuminance()
    {
        var (data, _) = ImageFolderLoader.Load(Folder(), 8, 1, ValueRange.Tanh);
        using (data)
        {
            Assert.That(data.Channels, Is.EqualTo(1));
            Assert.That(data.Images[3].mean().item<float>(), Is.EqualTo(1f).Within(0.01f), "white maps to the top of the range");
            Assert.That(data.Images.min().item<float>(), Is.GreaterThanOrEqualTo(-1f));
        }
    }

    [Test]
    public void AnUnreadableFileIsNamedOrSkippedAsTheUserChooses()
    {
        var folder = Folder();
        var broken = Path.Combine(folder, "dogs", "broken.png");
        File.WriteAllText(broken, "not a png");
        Assert.That(() => ImageFolderLoader.Load(folder, 8, 3, ValueRange.Sigmoid),
            Throws.TypeOf<TrainerException>().With.Message.Contains("broken.png").And.Message.Contains("BadImagePolicy.Skip"));
        var (data, report) = ImageFolderLoader.Load(folder, 8, 3, ValueRange.Sigmoid, BadImagePolicy.Skip);
        using (data)
        {
            Assert.That(report.Loaded, Is.EqualTo(4));
            Assert.That(report.Skipped, Is.EqualTo(new[] { broken }));
        }
    }

    [TestCase(0.5, "png")]
    [TestCase(0.25, "png")]
    [TestCase(0.5, "jpg")]
    public void ATruncatedImageIsUnreadableNotHalfBlank(double kept, string extension)
    {
        // Noise so that the compressed data fills the file evenly; cut to a fraction, the decoder stops part-way.
        var folder = Folder();
        var random = new Random(1);
        var cut = Path.Combine(folder, "dogs", "cut." + extension);
        Write(cut, 64, 64, (_, _) => new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)),
            extension == "png" ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg);
        var bytes = File.ReadAllBytes(cut);
        File.WriteAllBytes(cut, bytes.AsSpan(0, (int)(bytes.Length * kept)).ToArray());
        Assert.That(() => ImageFolderLoader.Load(folder, 8, 3, ValueRange.Sigmoid),
            Throws.TypeOf<TrainerException>().With.Message.Contains("cut." + extension));
        var (data, report) = ImageFolderLoader.Load(folder, 8, 3, ValueRange.Sigmoid, BadImagePolicy.Skip);
        using (data) Assert.That(report.Skipped, Is.EqualTo(new[] { cut }));
    }

    [Test]
    public void AnEmptyFolderIsRefused()
    {
        Assert.That(() => ImageFolderLoader.Load(TestData.NewTempFolder(), 8, 3, ValueRange.Sigmoid),
            Throws.TypeOf<TrainerException>().With.Message.Contains("holds no images"));
    }

    [Test]
    public void TheTrainerTrainsOnAnImageFolder()
    {
        var folder = Folder();
        var run = TestData.NewTempFolder();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = Cli.TrainerCli.Run(["train", "--data", folder, "--out", run, "--image-size", "16", "--steps", "2", "--batch-size", "4", "--width", "8", "--latent", "8"], output, error);
        Assert.That(code, Is.EqualTo(0), error.ToString());
        Assert.That(output.ToString(), Does.Contain("Loaded 4 images").And.Contain("images/s").And.Contain("2 class(es)"));
    }
}
