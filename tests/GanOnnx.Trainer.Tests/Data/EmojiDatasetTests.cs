using GanOnnx.Runtime;
using GanOnnx.Trainer.Data;
using SkiaSharp;

namespace GanOnnx.Trainer.Tests.Data;

/// <summary><c>ganonnx-train data --datasets emoji-google</c>: emoji PNGs with their categories made into a colour IDX folder.</summary>
public class EmojiDatasetTests
{
    /// <summary>
    /// A stand-in for the npm package emoji-datasource-google: 20 emoji in three categories (one with two skin-tone
    /// variations), one Component swatch, one entry without a Google image. Image k is opaque colour (k, 2k, 3k) in its
    /// left half and transparent in its right half.
    /// </summary>
    private static string FakePackage()
    {
        var package = TestData.NewTempFolder();
        var images = Directory.CreateDirectory(Path.Combine(package, "img", "google", "64")).FullName;
        var entries = new List<string>();
        void Png(string name, int k)
        {
            using var bitmap = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            for (var y = 0; y < 64; y++)
                for (var x = 0; x < 64; x++)
                    bitmap.SetPixel(x, y, x < 32 ? new SKColor((byte)k, (byte)(2 * k), (byte)(3 * k), 255) : new SKColor(0, 0, 0, 0));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(images, name), data.ToArray());
        }
        string[] categories = ["Smileys & Emotion", "Animals & Nature", "Flags"];
        for (var k = 0; k < 20; k++)
        {
            var name = $"{k + 10:x4}.png";
            Png(name, k + 1);
            var variations = k == 0
                ? """, "skin_variations": {"1F3FB": {"image": "000a-1f3fb.png", "has_img_google": true}, "1F3FC": {"image": "000a-1f3fc.png", "has_img_google": true}}"""
                : "";
            entries.Add($$"""{"image": "{{name}}", "category": "{{categories[k % 3]}}", "has_img_google": true{{variations}}}""");
        }
        Png("000a-1f3fb.png", 50);
        Png("000a-1f3fc.png", 60);
        Png("1f3fb.png", 70);
        entries.Add("""{"image": "1f3fb.png", "category": "Component", "has_img_google": true}""");
        entries.Add("""{"image": "ffff.png", "category": "Flags", "has_img_google": false}""");
        File.WriteAllText(Path.Combine(package, "emoji.json"), "[" + string.Join(",\n", entries) + "]");
        return package;
    }

    [Test]
    public void EmojiBecomeAColourIdxFolderWithCategoriesAsClassesAndTheirLicence()
    {
        var destination = Path.Combine(TestData.NewTempFolder(), "emoji-google");
        var summary = EmojiDataset.Prepare("google", destination, FakePackage(), SKColors.Black);
        Assert.That(summary, Does.Contain("train: 20 images 3×64×64, t10k: 2, 3 classes"));
        Assert.That(File.ReadAllLines(Path.Combine(destination, "classes.txt")), Is.EqualTo(new[] { "Animals & Nature", "Flags", "Smileys & Emotion" }));
        Assert.That(File.ReadAllText(Path.Combine(destination, "LICENSE-DATA.txt")), Does.Contain("Apache License, Version 2.0").And.Contain("MIT"));

        var (images, labels) = IdxFile.ReadPair(Path.Combine(destination, "train-images-idx4-ubyte.gz"), Path.Combine(destination, "train-labels-idx1-ubyte.gz"));
        Assert.That((images.Count, images.Channels, images.Rows, images.Columns), Is.EqualTo((20, 3, 64, 64)));
        // The first image in file-name order is the skin-tone variation 000a-1f3fb.png (colour 50): a Smileys & Emotion one.
        const int plane = 64 * 64;
        Assert.That(labels[0], Is.EqualTo(2));
        Assert.That(new[] { images.Pixels[0], images.Pixels[plane], images.Pixels[2 * plane] }, Is.EqualTo(new byte[] { 50, 100, 150 }));
        Assert.That(new[] { images.Pixels[40], images.Pixels[plane + 40], images.Pixels[2 * plane + 40] }, Is.EqualTo(new byte[] { 0, 0, 0 }), "transparent over black");

        using var dataset = ImageDataset.LoadIdxFolder(destination, ValueRange.Tanh);
        Assert.That((dataset.Channels, dataset.Height, dataset.Width, dataset.ClassNames.Count), Is.EqualTo((3, 64, 64, 3)));
        using var test = ImageDataset.LoadIdxFolder(destination, ValueRange.Tanh, testSplit: true);
        Assert.That(test.Count, Is.EqualTo(2));
    }

    [Test]
    public void AWhiteBackgroundShowsThroughTheTransparentPart()
    {
        var destination = Path.Combine(TestData.NewTempFolder(), "emoji-google");
        EmojiDataset.Prepare("google", destination, FakePackage());
        var images = IdxFile.ReadImages(Path.Combine(destination, "t10k-images-idx4-ubyte.gz"));
        Assert.That(images.Pixels[40], Is.EqualTo(255));
    }

    [Test]
    public void AFolderThatIsNotThePackageOrADamagedImageIsRefusedByName()
    {
        var empty = TestData.NewTempFolder();
        Assert.That(() => EmojiDataset.Prepare("google", TestData.NewTempFolder(), empty),
            Throws.TypeOf<TrainerException>().With.Message.Contains("emoji.json and img/google/64/"));
        var package = FakePackage();
        var broken = Path.Combine(package, "img", "google", "64", "0011.png");
        File.WriteAllBytes(broken, File.ReadAllBytes(broken).AsSpan(0, 60).ToArray());
        Assert.That(() => EmojiDataset.Prepare("google", TestData.NewTempFolder(), package),
            Throws.TypeOf<TrainerException>().With.Message.Contains("0011.png"));
        Assert.That(() => EmojiDataset.Prepare("apple", TestData.NewTempFolder(), package),
            Throws.TypeOf<TrainerException>().With.Message.Contains("--emoji is 'apple'"));
    }

    [Test]
    public void TheCommandLinePreparesOnlyTheDatasetsAskedFor()
    {
        var root = TestData.NewTempFolder();
        var (code, output, error) = TestData.RunCli("data", "--out", root, "--datasets", "emoji-google", "--emoji-npm", FakePackage(), "--emoji-background", "#102030");
        Assert.That(code, Is.Zero, error);
        Assert.That(output, Does.Contain("emoji-google →").And.Contain("#102030"));
        Assert.That(Directory.GetDirectories(root).Select(Path.GetFileName), Is.EqualTo(new[] { "emoji-google" }));
        var bad = TestData.RunCli("data", "--out", root, "--datasets", "cifar");
        Assert.That((bad.Code, bad.Error.Contains("--datasets has 'cifar'", StringComparison.Ordinal)), Is.EqualTo((1, true)));
        var colour = TestData.RunCli("data", "--out", root, "--datasets", "emoji-google", "--emoji-background", "teal");
        Assert.That((colour.Code, colour.Error.Contains("--emoji-background is 'teal'", StringComparison.Ordinal)), Is.EqualTo((1, true)));
    }
}
