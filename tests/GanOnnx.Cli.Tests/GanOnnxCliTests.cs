using SkiaSharp;

namespace GanOnnx.Cli.Tests;

public class GanOnnxCliTests
{
    private static (int Code, string Output, string Error) Run(params string[] args) => CliRunner.Run(args);

    [Test]
    public void GenerateWritesTheRequestedImagesAndAGrid()
    {
        var folder = TestPaths.NewTempFolder();
        var (code, output, error) = Run("generate", "--model", TestPaths.ShippedModel, "--count", "5", "--seed", "3", "--out", folder);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("Wrote 5 PNG images"));
        var files = Directory.GetFiles(folder, "seed3-*.png").Order().ToArray();
        Assert.That(files.Select(Path.GetFileName), Is.EqualTo(new[] { "seed3-000000.png", "seed3-000001.png", "seed3-000002.png", "seed3-000003.png", "seed3-000004.png" }));
        foreach (var file in files.Append(Path.Combine(folder, "grid.png")))
        {
            using var bitmap = SKBitmap.Decode(file);
            Assert.That(bitmap, Is.Not.Null, file);
        }
        Assert.That(Directory.GetFiles(folder, "*.partial", SearchOption.AllDirectories), Is.Empty);
    }

    [Test]
    public void TheSameSeedWritesTheSameBytes()
    {
        var a = TestPaths.NewTempFolder();
        var b = TestPaths.NewTempFolder();
        Assert.That(Run("generate", "--model", TestPaths.ShippedModel, "--count", "4", "--out", a, "--batch-size", "4").Code, Is.EqualTo(0));
        Assert.That(Run("generate", "--model", TestPaths.ShippedModel, "--count", "2", "--start-index", "2", "--out", b, "--batch-size", "1").Code, Is.EqualTo(0));
        Assert.That(File.ReadAllBytes(Path.Combine(b, "seed42-000003.png")), Is.EqualTo(File.ReadAllBytes(Path.Combine(a, "seed42-000003.png"))));
    }

    [Test]
    public void AMissingModelFailsWithAMessageAndNonZeroExit()
    {
        var (code, _, error) = Run("generate", "--model", "/nonexistent.onnx", "--out", TestPaths.NewTempFolder());
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("does not exist"));
    }

    [Test]
    public void ACorruptModelFailsAndWritesNoImages()
    {
        var folder = TestPaths.NewTempFolder();
        var model = Path.Combine(folder, "bad.onnx");
        File.WriteAllText(model, "this is not an onnx file");
        var outFolder = Path.Combine(folder, "out");
        var (code, _, error) = Run("generate", "--model", model, "--out", outFolder);
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("could not be loaded as an ONNX model"));
        Assert.That(Directory.Exists(outFolder) ? Directory.GetFiles(outFolder) : [], Is.Empty);
    }

    [TestCase("--count", "0", "--count")]
    [TestCase("--format", "gif", "--format")]
    [TestCase("--quality", "0", "--quality")]
    [TestCase("--provider", "tpu", "--provider")]
    [TestCase("--class", "20", "has latent classes 0 to 19")]
    [TestCase("--batch-size", "0", "--batch-size is 0")]
    public void BadOptionsFailNamingTheOption(string option, string value, string expected)
    {
        var (code, _, error) = Run("generate", "--model", TestPaths.ShippedModel, "--out", TestPaths.NewTempFolder(), option, value);
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain(expected));
    }

    [Test]
    public void GridLabelsWithNoGridIsRefusedBeforeAnyImage()
    {
        // --grid-labels was ignored without a word when --no-grid was given too.
        var folder = Path.Combine(TestPaths.NewTempFolder(), "out");
        var (code, _, error) = Run("generate", "--model", TestPaths.ShippedModel, "--count", "2", "--out", folder, "--no-grid", "--grid-labels");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("error: --grid-labels captions grid.png, and --no-grid writes none; give one of them."));
        Assert.That(Directory.Exists(folder), Is.False);
    }

    [Test]
    public void InfoPrintsTheContract()
    {
        var (code, output, error) = Run("info", "--model", TestPaths.ShippedModel);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("float32[batch, 1, 28, 28]").And.Contain("CPUExecutionProvider").And.Contain("from metadata"));
        Assert.That(output, Does.Contain(Runtime.GeneratorOptions.AutomaticIntraOpThreads > 0
            ? $"cpu threads:  {Runtime.GeneratorOptions.AutomaticIntraOpThreads} per inference call by default" : "cpu threads:  ONNX Runtime's own default"));
    }

    [Test]
    public void InfoPrintsCountsWholeAndScoresToFourDigits()
    {
        var (code, output, error) = Run("info", "--model", Path.Combine(TestPaths.RepositoryRoot, "models", "fashion-cdcgan", "model.onnx"));
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("held_out_count 10000").And.Contain("eval_count 5000").And.Contain("ema yes"));
        Assert.That(output, Does.Not.Contain("E+"));
        Assert.That(output, Does.Match(@"frechet_distance \d\.\d{3}[,\s]"));
    }
}
