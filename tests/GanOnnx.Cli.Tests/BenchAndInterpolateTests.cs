using System.Text.Json;
using GanOnnx.Diagnostics;
using SkiaSharp;

namespace GanOnnx.Cli.Tests;

public class BenchAndInterpolateTests
{
    private static (int Code, string Output, string Error) Run(params string[] args) => CliRunner.Run(args);

    /// <summary>The rows of a <c>bench --json</c> record.</summary>
    private static List<BenchmarkResult> Rows(string path)
    {
        using var record = JsonDocument.Parse(File.ReadAllText(path));
        Assert.That(record.RootElement.GetProperty("tool").GetString(), Is.EqualTo("ganonnx bench"));
        return record.RootElement.GetProperty("results").Deserialize<List<BenchmarkResult>>(
            new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;
    }

    [Test]
    public void BenchReportsEveryConfigurationAsTableJsonMarkdownAndHistogram()
    {
        var folder = TestPaths.NewTempFolder();
        var (code, output, error) = Run("bench", "--model", TestPaths.ShippedModel, "--batch-sizes", "1,4", "--threads", "1,2",
            "--duration", "0.05", "--warmup", "1", "--json", Path.Combine(folder, "b.json"), "--markdown", Path.Combine(folder, "b.md"),
            "--histogram", Path.Combine(folder, "b.png"));
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("p50 ms").And.Contain("images/s").And.Contain("onnxruntime-cpu"));
        var results = Rows(Path.Combine(folder, "b.json"));
        Assert.That(results.Select(r => (r.Threads, r.Batch)), Is.EqualTo(new[] { (1, 1), (1, 4), (2, 1), (2, 4) }));
        foreach (var r in results)
        {
            Assert.That(r.P50Ms, Is.GreaterThan(0).And.LessThanOrEqualTo(r.P90Ms));
            Assert.That(r.P90Ms, Is.LessThanOrEqualTo(r.P99Ms));
            Assert.That(r.P99Ms, Is.LessThanOrEqualTo(r.MaxMs));
            Assert.That(r.ImagesPerSecond, Is.GreaterThan(0));
            Assert.That(r.LatenciesMs, Has.Count.EqualTo(r.Iterations));
        }
        Assert.That(File.ReadAllText(Path.Combine(folder, "b.md")), Does.StartWith("| target |"));
        using var png = SKBitmap.Decode(Path.Combine(folder, "b.png"));
        Assert.That(png.Height, Is.EqualTo(4 * 160));
    }

    [Test]
    public void BenchRatiosPairGanOnnxWithPyTorchRowByRowOnTheSameDevice()
    {
        // tests/peer/bench_ratios.py reads what `ganonnx bench --json` really writes and what torch_peer.py bench writes
        // (made here with known figures: eager fp32 at half GanOnnx's best, CUDA graphs at a quarter, fp16 at GanOnnx's own).
        var python = PythonPeers.FindPython("json");
        if (python is null) Assert.Ignore("No python3 here.");
        var folder = TestPaths.NewTempFolder();
        var ganonnx = Path.Combine(folder, "g.json");
        var (code, _, error) = Run("bench", "--model", TestPaths.ShippedModel, "--batch-sizes", "1,4", "--outputs", "float,uint8", "--peer",
            "--duration", "0.05", "--warmup", "1", "--json", ganonnx);
        Assert.That(code, Is.Zero, error);
        var rows = Rows(ganonnx);
        var ours = rows.Where(r => !r.Target.StartsWith("plain-")).ToList();
        Assert.That(ours.Select(r => (r.Output, r.Batch)), Is.EquivalentTo(new[] { ("float", 1), ("float", 4), ("uint8", 1), ("uint8", 4) }));
        object Row(string mode, string precision, BenchmarkResult r, double share) => new Dictionary<string, object>
        {
            ["target"] = "pytorch-" + mode, ["model"] = "model.onnx", ["precision"] = precision, ["output"] = r.Output, ["batch"] = r.Batch,
            ["calls"] = 10, ["p50_ms"] = 1.0, ["p99_ms"] = 2.0, ["images_per_second"] = r.ImagesPerSecond * share,
        };
        string WritePeer(string device)
        {
            var path = Path.Combine(folder, $"t-{device}.json");
            File.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["peer"] = "pytorch", ["torch"] = "test", ["device"] = device,
                ["results"] = ours.SelectMany(r => new[] { Row("eager", "fp32", r, 0.5), Row("graph", "fp32", r, 0.25), Row("eager", "fp16", r, 1.0) }).ToList(),
            }));
            return path;
        }

        var (ratioCode, text) = PythonPeers.RunPeer(python, "bench_ratios.py", "--ganonnx", ganonnx, "--pytorch", WritePeer("cpu"), "--name", "mnist-dcgan",
            "--markdown", Path.Combine(folder, "ratios.md"));
        Assert.That(ratioCode, Is.Zero, text);
        var table = text.Split('\n').Where(l => l.StartsWith("| float |") || l.StartsWith("| uint8 |")).ToList();
        Assert.That(table, Has.Count.EqualTo(4), text);
        foreach (var line in table)
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            Assert.That(cells[7], Is.EqualTo("2.00×"), $"GanOnnx against PyTorch's best fp32 (eager here): {line}");
            Assert.That(cells[10], Is.EqualTo("-"), "no GanOnnx fp16 file was given");
        }
        Assert.That(File.ReadAllText(Path.Combine(folder, "ratios.md")), Does.Contain("### mnist-dcgan"));

        var (mixed, mixedText) = PythonPeers.RunPeer(python, "bench_ratios.py", "--ganonnx", ganonnx, "--pytorch", WritePeer("cuda"));
        Assert.That(mixed, Is.EqualTo(1));
        Assert.That(mixedText, Does.Contain("GanOnnx ran on cpu and PyTorch on cuda"));
    }

    [Test]
    public void BenchRatiosRefuseToCompareDifferentFloat32MathAndPairAVariantWithItsModelsRecord()
    {
        // CUDA rows as `ganonnx bench --json` writes them (TF32 on, one NHWC variant) and PyTorch records with TF32 on or off.
        var python = PythonPeers.FindPython("json");
        if (python is null) Assert.Ignore("No python3 here.");
        var folder = TestPaths.NewTempFolder();
        var snake = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        BenchmarkResult Ours(bool nhwc) => new()
        {
            Target = "onnxruntime-cuda", Model = "model.onnx", Output = "uint8", Batch = 64, Threads = 0, ImagesPerSecond = 300, CudaGraph = true,
            Tf32 = true, CudaNhwc = nhwc, CudnnExhaustive = true,
        };
        string Torch(string name, bool tf32)
        {
            var path = Path.Combine(folder, name);
            File.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["peer"] = "pytorch", ["torch"] = "test", ["device"] = "cuda", ["gpu"] = "test GPU", ["tf32"] = tf32,
                ["results"] = new[] { new Dictionary<string, object> { ["target"] = "pytorch-graph", ["precision"] = "fp32", ["output"] = "uint8", ["batch"] = 64, ["images_per_second"] = 600.0 } },
            }));
            return path;
        }
        File.WriteAllText(Path.Combine(folder, "bench-cuda-m.json"), JsonSerializer.Serialize(new[] { Ours(false) }, snake));
        File.WriteAllText(Path.Combine(folder, "bench-cuda-m-nhwc.json"), JsonSerializer.Serialize(new[] { Ours(true) }, snake));

        Torch("torch-m.json", tf32: false);
        var (code, text) = PythonPeers.RunPeer(python, "bench_ratios.py", folder);
        Assert.That(code, Is.EqualTo(1), text);
        Assert.That(text, Does.Contain("GanOnnx ran with TF32 on and PyTorch with TF32 off"));

        Torch("torch-m.json", tf32: true);
        (code, text) = PythonPeers.RunPeer(python, "bench_ratios.py", folder);
        Assert.That(code, Is.Zero, text);
        Assert.That(text, Does.Contain("### m: GanOnnx against PyTorch test on test GPU, TF32 on"));
        Assert.That(text, Does.Contain("### m-nhwc: GanOnnx against PyTorch test on test GPU, TF32 on"), "the NHWC variant is paired with torch-m.json");
        Assert.That(text.Split('\n').Count(l => l.StartsWith("| uint8 | 64 | 300 (graph) |") && l.Contains("0.50×")), Is.EqualTo(2), text);
    }

    [Test]
    public void CudaRowsNameTheMathTheyRanInTheTable()
    {
        var row = new BenchmarkResult { Target = "onnxruntime-cuda", Batch = 1, Threads = 0, CudaGraph = true, Tf32 = false, CudaNhwc = true, CudnnExhaustive = false };
        Assert.That(BenchmarkReport.Table([row]), Does.Contain("onnxruntime-cuda+graph-notf32-nhwc-heuristic"));
        Assert.That(BenchmarkReport.Table([row with { Tf32 = true, CudaNhwc = false, CudnnExhaustive = true }]), Does.Contain("onnxruntime-cuda+graph ").Or.Contain("onnxruntime-cuda+graph\n"));
        Assert.That(BenchmarkReport.Json([row]), Does.Contain("\"tf32\": false").And.Contain("\"cuda_nhwc\": true").And.Contain("\"cudnn_exhaustive\": false"));
    }

    [Test]
    public void BenchRefusesAPlanItCannotRunBeforeMeasuringAnything()
    {
        // CUDA graphs only, on the CPU: every row would be left out (CUDA graphs are CUDA rows only), and a batch over the
        // runtime's limit would fail only when its turn came; both are named at once, by the flag.
        var (code, output, error) = Run("bench", "--model", TestPaths.ShippedModel, "--providers", "cpu", "--cuda-graph", "on", "--batch-sizes", "1", "--duration", "0.01");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--cuda-graph on applies to CUDA rows only"));
        Assert.That(output, Is.Empty, "nothing was measured");
        (code, output, error) = Run("bench", "--model", TestPaths.ShippedModel, "--providers", "cpu", "--outputs", "device", "--batch-sizes", "1", "--duration", "0.01");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--outputs device leaves the images on the GPU: CUDA rows only"));
        Assert.That(output, Is.Empty, "nothing was measured");
        (code, output, error) = Run("bench", "--model", TestPaths.ShippedModel, "--batch-sizes", "1,100000", "--duration", "0.01");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--batch-sizes is '1,100000'; it must be a comma-separated list of whole numbers from 1 to 65536."));
        Assert.That(output, Is.Empty, "refused before batch 1 was measured");
        (code, output, error) = Run("bench", "--model", TestPaths.ShippedModel, "--providers", "cpu", "--cuda-graph", "off,on", "--outputs", "float,device",
            "--batch-sizes", "1", "--duration", "0.01", "--warmup", "0");
        Assert.That(code, Is.Zero, error);
        Assert.That(output, Does.Contain("onnxruntime-cpu").And.Not.Contain("+graph").And.Not.Contain(" device "), "CUDA-only rows are left out on the CPU");
    }

    [Test]
    public void BenchOfAProviderThatCannotLoadFailsNamingThePackage()
    {
        var (code, _, error) = Run("bench", "--model", TestPaths.ShippedModel, "--providers", "cuda", "--duration", "0.01");
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("Microsoft.ML.OnnxRuntime.Gpu"));
    }

    [Test]
    public void PercentilesUseTheNearestRank()
    {
        var sorted = Enumerable.Range(1, 100).Select(i => (double)i).ToArray();
        Assert.That(InferenceBenchmark.Percentile(sorted, 0.5), Is.EqualTo(50));
        Assert.That(InferenceBenchmark.Percentile(sorted, 0.99), Is.EqualTo(99));
        Assert.That(InferenceBenchmark.Percentile(sorted, 1.0), Is.EqualTo(100));
    }

    [Test]
    public void InterpolateWritesOneRowPerPairOfSeeds()
    {
        var path = Path.Combine(TestPaths.NewTempFolder(), "i.png");
        var (code, output, error) = Run("interpolate", "--model", TestPaths.ShippedModel, "--seeds", "1,2,3", "--steps", "5", "--out", path);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("2 row(s) × 5 images"));
        using var grid = SKBitmap.Decode(path);
        Assert.That((grid.Width, grid.Height), Is.EqualTo((5 * 28 + 6 * 2, 2 * 28 + 3 * 2)));
    }

    [Test]
    public void InterpolationEndsAreTheSeedsOwnImages()
    {
        using var session = Runtime.GeneratorSession.Load(TestPaths.ShippedModel);
        var a = session.Generate(1, seed: 7).Pixels;
        var path = Path.Combine(TestPaths.NewTempFolder(), "i.png");
        Assert.That(Run("interpolate", "--model", TestPaths.ShippedModel, "--seeds", "7,8", "--steps", "3", "--out", path).Code, Is.EqualTo(0));
        using var grid = SKBitmap.Decode(path);
        // The first tile (at padding 2) is seed 7's image 0.
        for (var y = 0; y < 28; y += 5)
            for (var x = 0; x < 28; x += 5)
                Assert.That((int)grid.GetPixel(2 + x, 2 + y).Red, Is.EqualTo(Imaging.ImageEncoder.ToByte(a[y * 28 + x], session.Contract.ValueRange)).Within(1));
    }

    [TestCase("strip.jpg", SKEncodedImageFormat.Jpeg)]
    [TestCase("strip.webp", SKEncodedImageFormat.Webp)]
    public void InterpolateWritesTheFormatItsFileNameAsksFor(string name, SKEncodedImageFormat expected)
    {
        var path = Path.Combine(TestPaths.NewTempFolder(), name);
        var (code, _, error) = Run("interpolate", "--model", TestPaths.ShippedModel, "--seeds", "1,2", "--steps", "3", "--out", path);
        Assert.That(code, Is.EqualTo(0), error);
        using var codec = SKCodec.Create(path);
        Assert.That(codec.EncodedFormat, Is.EqualTo(expected));
        Assert.That((codec.Info.Width, codec.Info.Height), Is.EqualTo((3 * 28 + 4 * 2, 28 + 2 * 2)));
    }

    [Test]
    public void InterpolateOrAHistogramIntoAFolderIsRefusedBeforeAnyImageIsMade()
    {
        var folder = TestPaths.NewTempFolder();
        var (code, output, error) = Run("interpolate", "--model", TestPaths.ShippedModel, "--seeds", "1,2", "--out", folder);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain($"--out: '{folder}' is a folder; give the name of the image file to write (for example '{Path.Combine(folder, "grid.png")}')."));
        Assert.That(output, Is.Empty);
        (code, output, error) = Run("bench", "--model", TestPaths.ShippedModel, "--batch-sizes", "1", "--duration", "0.01", "--histogram", folder + "/");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain($"--histogram: '{folder}/' is a folder"));
        Assert.That(output, Is.Empty, "refused before timing");
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty);
    }

    [Test]
    public void InterpolateToAnUnknownImageExtensionFailsBeforeWritingAnything()
    {
        var folder = TestPaths.NewTempFolder();
        var (code, _, error) = Run("interpolate", "--model", TestPaths.ShippedModel, "--seeds", "1,2", "--out", Path.Combine(folder, "strip.bmp"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--out: ").And.Contain("ends in '.bmp'"));
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty);
    }

    [TestCase("strip.png", "100000", "3,000,002×32 pixels; Png images can be at most 1,000,000 on a side")]
    [TestCase("strip.webp", "600", "18,002×32 pixels; Webp images can be at most 16,383 on a side")]
    [TestCase("strip.jpg", "2400", "72,002×32 pixels; Jpeg images can be at most 65,500 on a side")]
    public void InterpolateRefusesAGridItsFormatCannotHoldBeforeMakingTheImages(string name, string steps, string expected)
    {
        // It used to make all the images and then die in the encoder with a stack trace ("SkiaSharp could not encode").
        var folder = TestPaths.NewTempFolder();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (code, _, error) = Run("interpolate", "--model", TestPaths.ShippedModel, "--seeds", "1,2", "--steps", steps, "--out", Path.Combine(folder, name));
        Assert.That(code, Is.EqualTo(1), error);
        Assert.That(error, Does.StartWith("error: a grid of").And.Contain(expected));
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty);
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "refused before 100,000 images were made");
    }

    [Test]
    public void BenchFilesComparesGenerateWithPlainInferenceForEachPngSetting()
    {
        var folder = TestPaths.NewTempFolder();
        var json = Path.Combine(TestPaths.NewTempFolder(), "bench.json");
        var (code, output, error) = Run("bench", "--model", TestPaths.ShippedModel, "--batch-sizes", "16", "--threads", "1", "--duration", "0.05",
            "--files", "48", "--png-compression", "small,none", "--files-dir", folder, "--json", json);
        Assert.That(code, Is.EqualTo(0), error);
        var lines = output.Split('\n').Where(l => l.StartsWith("files:", StringComparison.Ordinal)).ToList();
        Assert.That(lines, Has.Count.EqualTo(2));
        Assert.That(lines[0], Does.Contain("wrote 48 PNG files (compressed) at").And.Contain("× plain ONNX Runtime").And.Contain("batch 16, 1 threads on both sides")
            .And.Contain("before the files").And.Contain("halfway"));
        Assert.That(lines[1], Does.Contain("wrote 48 PNG files (stored) at"));
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty, "the files are deleted afterwards");

        // The record keeps what the text says: the rows, where the time goes, and each files comparison.
        using var record = JsonDocument.Parse(File.ReadAllText(json));
        var files = record.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.That(files.Select(f => f.GetProperty("png").GetString()), Is.EqualTo(new[] { "compressed", "stored" }));
        foreach (var f in files)
        {
            Assert.That(f.GetProperty("files").GetInt64(), Is.EqualTo(48));
            var plain = (f.GetProperty("plain_before_images_per_second").GetDouble() + f.GetProperty("plain_halfway_images_per_second").GetDouble()) / 2;
            Assert.That(f.GetProperty("plain_images_per_second").GetDouble(), Is.EqualTo(plain).Within(1e-9));
            Assert.That(f.GetProperty("ratio").GetDouble(), Is.EqualTo(f.GetProperty("generate_images_per_second").GetDouble() / plain).Within(1e-9));
        }
        Assert.That(record.RootElement.GetProperty("stages").GetProperty("inference_us").GetDouble(), Is.GreaterThan(0));
        Assert.That(record.RootElement.GetProperty("results").GetArrayLength(), Is.EqualTo(1));
        (code, _, error) = Run("bench", "--model", TestPaths.ShippedModel, "--files", "8", "--png-compression", "zip");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--png-compression"));
        // With no --threads both sides get the processor count: ONNX Runtime's own default was one thread on the 2-vCPU
        // machine, against generate's two workers.
        (code, output, error) = Run("bench", "--model", TestPaths.ShippedModel, "--batch-sizes", "4", "--duration", "0.02", "--files", "8", "--files-dir", folder);
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain($"batch 4, {Environment.ProcessorCount} threads on both sides"));
        Assert.That(output, Does.Contain(Runtime.GeneratorOptions.AutomaticIntraOpThreads > 0
            ? $"threads 'auto': {Runtime.GeneratorOptions.AutomaticIntraOpThreads} for GanOnnx" : "threads 'auto': ONNX Runtime's own default"));

        (code, output, error) = Run("bench", "--model", TestPaths.ShippedModel, "--files", "1");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--files is 1; it must be 0 (skip) or at least 2"));
        Assert.That(output, Is.Empty, "refused before any timing");
    }

    [Test]
    public void BenchRefusesAHistogramNameOfAnUnknownFormatBeforeMeasuring()
    {
        var folder = TestPaths.NewTempFolder();
        var (code, output, error) = Run("bench", "--model", TestPaths.ShippedModel, "--batch-sizes", "1", "--duration", "0.01",
            "--histogram", Path.Combine(folder, "latency.tiff"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--histogram: ").And.Contain("ends in '.tiff'"));
        Assert.That(output, Is.Empty, "nothing was measured");
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty);
    }

    [TestCase("--seeds", "1", "at least two")]
    [TestCase("--steps", "1", "--steps")]
    public void BadInterpolateOptionsFail(string option, string value, string expected)
    {
        var args = new List<string> { "interpolate", "--model", TestPaths.ShippedModel, "--out", Path.Combine(TestPaths.NewTempFolder(), "i.png"), "--seeds", "1,2" };
        var i = args.IndexOf(option);
        if (i >= 0) args[i + 1] = value; else args.AddRange([option, value]);
        var (code, _, error) = Run(args.ToArray());
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain(expected));
    }
}
