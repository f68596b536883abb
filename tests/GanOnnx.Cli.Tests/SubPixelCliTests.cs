using System.Text.Json;
using GanOnnx.Diagnostics;

namespace GanOnnx.Cli.Tests;

/// <summary><c>--subpixel</c> on the commands that load a model: what it says, what bench records, what it refuses.</summary>
public class SubPixelCliTests
{
    [Test]
    public void InfoSaysWhetherTheModelRunsAsSubPixelConvolutions()
    {
        var (code, output, error) = CliRunner.Run("info", "--model", TestPaths.ShippedModel);
        Assert.That(code, Is.Zero, error);
        Assert.That(output, Does.Contain("sub-pixel:    on: 2 ConvTranspose layers run as (sub-pixel) convolutions"));
        (code, output, error) = CliRunner.Run("info", "--model", TestPaths.ShippedModel, "--subpixel", "off");
        Assert.That(code, Is.Zero, error);
        Assert.That(output, Does.Contain("sub-pixel:    off (--subpixel off on Cpu)"));
        (code, output, error) = CliRunner.Run("info", "--model", Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-mlp", "model.onnx"));
        Assert.That(code, Is.Zero, error);
        Assert.That(output, Does.Contain("sub-pixel:    off: the model has no ConvTranspose layer"));
    }

    [Test]
    public void BenchTimesBothGraphsAndRecordsWhichRowRanWhich()
    {
        var json = Path.Combine(TestPaths.NewTempFolder(), "b.json");
        var (code, output, error) = CliRunner.Run("bench", "--model", TestPaths.ShippedModel, "--batch-sizes", "2", "--subpixel", "off,on",
            "--duration", "0.05", "--warmup", "1", "--json", json);
        Assert.That(code, Is.Zero, error);
        Assert.That(output, Does.Contain("onnxruntime-cpu+subpixel"));
        using var record = JsonDocument.Parse(File.ReadAllText(json));
        var rows = record.RootElement.GetProperty("results").Deserialize<List<BenchmarkResult>>(
            new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;
        Assert.That(rows.Select(r => r.SubPixel), Is.EqualTo(new int?[] { 0, 2 }));
    }

    [Test]
    public void DumpWithAndWithoutTheRewriteAgreeToFloatRounding()
    {
        var folder = TestPaths.NewTempFolder();
        var (code, _, error) = CliRunner.Run("dump", "--model", TestPaths.ShippedModel, "--count", "8", "--out", Path.Combine(folder, "own"), "--subpixel", "off");
        Assert.That(code, Is.Zero, error);
        (code, var output, error) = CliRunner.Run("dump", "--model", TestPaths.ShippedModel, "--count", "8", "--out", Path.Combine(folder, "rewritten"),
            "--subpixel", "on", "--compare", Path.Combine(folder, "own"), "--tolerance", "1e-5");
        Assert.That(code, Is.Zero, output + error);
    }

    [TestCase("generate", "--out", "o")]
    [TestCase("dump", "--out", "o")]
    [TestCase("info")]
    [TestCase("bench")]
    public void AnUnknownModeIsRefusedNamingTheChoices(string command, params string[] more)
    {
        var folder = TestPaths.NewTempFolder();
        var args = new List<string> { command, "--model", TestPaths.ShippedModel, "--subpixel", "sometimes" };
        if (more.Length == 2) args.AddRange([more[0], Path.Combine(folder, more[1])]);
        var (code, _, error) = CliRunner.Run([.. args]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--subpixel").And.Contain("sometimes").And.Contain("auto"));
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty, "nothing written");
    }
}
