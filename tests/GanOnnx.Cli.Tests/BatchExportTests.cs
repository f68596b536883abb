using GanOnnx.Imaging;
using GanOnnx.Runtime;

namespace GanOnnx.Cli.Tests;

public class BatchExportTests
{
    private GeneratorSession _session = null!;

    [OneTimeSetUp]
    public void Load() => _session = GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { MaxBatchSize = 8 });

    [OneTimeTearDown]
    public void Dispose() => _session.Dispose();

    private static Dictionary<string, byte[]> Images(string folder) =>
        Directory.GetFiles(folder, "seed*").ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    [Test]
    public async Task ShardsTogetherWriteExactlyTheFilesOfOneUnshardedRun()
    {
        var whole = TestPaths.NewTempFolder();
        var sharded = TestPaths.NewTempFolder();
        await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 21, Seed = 4, StartIndex = 3, Folder = whole });
        var results = new List<BatchExportResult>();
        for (var i = 0; i < 3; i++)
            results.Add(await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 21, Seed = 4, StartIndex = 3, Folder = sharded, Shard = new Shard(i, 3) }));

        Assert.That(results.Select(r => r.Written), Is.EqualTo(new long[] { 7, 7, 7 }));
        var expected = Images(whole);
        var actual = Images(sharded);
        Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
        Assert.That(expected.Keys, Has.Count.EqualTo(21).And.Contain("seed4-000003.png").And.Contain("seed4-000023.png"));
        foreach (var (name, bytes) in expected) Assert.That(actual[name], Is.EqualTo(bytes), name);
        Assert.That(File.Exists(Path.Combine(sharded, "manifest-1-of-3.jsonl")), Is.True);
    }

    [Test]
    public async Task TheLastIndicesBeforeLongMaxValueExportWithoutWrappingRound()
    {
        // The last 3 indices (the last is long.MaxValue − 1), whose batch of 8 would reach past long.MaxValue: the batch
        // arithmetic must not wrap round.
        const long start = long.MaxValue - 3;
        var folder = TestPaths.NewTempFolder();
        var result = await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 3, Seed = 5, StartIndex = start, Folder = folder, InferenceWorkers = 2 });
        Assert.That(result.Written, Is.EqualTo(3));
        Assert.That(() => new BatchExportOptions { Count = 4, StartIndex = start, Folder = folder }.Validate(),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains($"the last index is {long.MaxValue - 1}"));
        var expected = _session.Generate(3, seed: 5, startIndex: start);
        for (var i = 0; i < 3; i++)
            Assert.That(File.ReadAllBytes(Path.Combine(folder, $"seed5-{start + i}.png")), Is.EqualTo(ImageEncoder.Encode(expected, i)), $"image {start + i}");
    }

    [Test]
    public async Task TheManifestListsEveryFileWithItsChecksum()
    {
        var folder = TestPaths.NewTempFolder();
        var result = await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 10, Seed = 1, Folder = folder });
        var lines = File.ReadAllLines(result.ManifestPath).Select(l => System.Text.Json.JsonSerializer.Deserialize<ManifestEntry>(l)!).ToList();
        Assert.That(lines.Select(e => e.Index).Order(), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (long)i)));
        foreach (var entry in lines)
        {
            Assert.That(entry.Seed, Is.EqualTo(1));
            Assert.That(Checksum.Sha256Hex(File.ReadAllBytes(Path.Combine(folder, entry.File))), Is.EqualTo(entry.Sha256));
        }
    }

    [Test]
    public async Task AResumedRunWritesOnlyWhatIsMissingOrDamagedAndLeavesNoPartialFiles()
    {
        var reference = TestPaths.NewTempFolder();
        await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 12, Seed = 8, Folder = reference });
        var folder = TestPaths.NewTempFolder();
        await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 12, Seed = 8, Folder = folder });

        // Simulate a crash: two files gone, one damaged, a temporary file left, a torn manifest line.
        File.Delete(Path.Combine(folder, "seed8-000002.png"));
        File.Delete(Path.Combine(folder, "seed8-000011.png"));
        File.WriteAllBytes(Path.Combine(folder, "seed8-000005.png"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(folder, ".seed8-000007.png.abcd1234.partial"), [9]);
        File.AppendAllText(Path.Combine(folder, "manifest.jsonl"), "{\"file\": \"seed8-0000");

        var result = await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 12, Seed = 8, Folder = folder });
        Assert.That(result.Written, Is.EqualTo(3));
        Assert.That(result.Skipped, Is.EqualTo(9));
        Assert.That(Directory.GetFiles(folder, "*.partial"), Is.Empty);
        var expected = Images(reference);
        var actual = Images(folder);
        Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
        foreach (var (name, bytes) in expected) Assert.That(actual[name], Is.EqualTo(bytes), name);
        Assert.That(File.ReadAllLines(result.ManifestPath), Has.Length.EqualTo(12));
    }

    [Test]
    public async Task ARerunInAnotherFormatWritesItsOwnFilesInsteadOfTrustingTheOldOnes()
    {
        var folder = TestPaths.NewTempFolder();
        await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 8, Folder = folder });
        var jpeg = await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 8, Folder = folder, Format = Imaging.ImageFileFormat.Jpeg });
        Assert.That((jpeg.Written, jpeg.Skipped), Is.EqualTo((8L, 0L)));
        Assert.That(Directory.GetFiles(folder, "seed42-*.jpg"), Has.Length.EqualTo(8));
        // Both jobs' files stay listed, each with what made it.
        var lines = ManifestLines(folder);
        Assert.That(lines, Has.Count.EqualTo(16));
        Assert.That(lines.Select(l => l.MadeBy!.Format).Distinct(), Is.EquivalentTo(new[] { "png", "jpeg" }));
        var again = await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 8, Folder = folder, Format = Imaging.ImageFileFormat.Jpeg });
        Assert.That((again.Written, again.Skipped), Is.EqualTo((0L, 8L)));
    }

    [Test]
    public async Task PngCompressionChangesTheBytesButNeverThePixelsNorWhatMadeTheFile()
    {
        var folders = new Dictionary<PngCompression, string>();
        foreach (var png in new[] { PngCompression.Small, PngCompression.None })
        {
            folders[png] = TestPaths.NewTempFolder();
            await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 5, Seed = 2, Folder = folders[png], PngCompression = png });
        }
        var expected = _session.Generate(5, seed: 2);
        long Bytes(PngCompression png) => Directory.GetFiles(folders[png], "seed*").Sum(f => new FileInfo(f).Length);
        for (var i = 0; i < 5; i++)
        {
            var name = $"seed2-{i:D6}.png";
            foreach (var (png, folder) in folders)
            {
                Assert.That(File.ReadAllBytes(Path.Combine(folder, name)), Is.EqualTo(ImageEncoder.Encode(expected, i, png: png)), $"{png} {name}");
                using var decoded = SkiaSharp.SKBitmap.Decode(Path.Combine(folder, name));
                using var reference = SkiaSharp.SKBitmap.Decode(Path.Combine(folders[PngCompression.Small], name));
                Assert.That(decoded.Bytes, Is.EqualTo(reference.Bytes), $"{png} {name}: the same pixels");
            }
        }
        Assert.That(Bytes(PngCompression.None), Is.GreaterThan(2 * Bytes(PngCompression.Small)));
        Assert.That(ManifestLines(folders[PngCompression.None]).Select(l => l.MadeBy), Is.EqualTo(ManifestLines(folders[PngCompression.Small]).Select(l => l.MadeBy)));
        // A resume with another setting keeps what is there: the images are the same.
        var again = await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 5, Seed = 2, Folder = folders[PngCompression.Small], PngCompression = PngCompression.None });
        Assert.That((again.Written, again.Skipped), Is.EqualTo((0L, 5L)));
        Assert.That(() => new BatchExportOptions { Count = 1, Folder = "x", PngCompression = (PngCompression)7 }.Validate(),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("BatchExportOptions.PngCompression is 7"));
    }

    [Test]
    public async Task ARerunWithAnotherModelOrTruncationIsRefusedNamingWhatMadeTheFilesUnlessOverwriting()
    {
        var folder = TestPaths.NewTempFolder();
        await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 6, Folder = folder });
        using var mlp = GeneratorSession.Load(Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-mlp", "model.onnx"), new GeneratorOptions { MaxBatchSize = 8 });
        var ex = Assert.ThrowsAsync<GanOnnxException>(() => BatchExporter.RunAsync(mlp, new BatchExportOptions { Count = 6, Folder = folder }));
        Assert.That(ex!.Message, Does.Contain("6 of this job's files made by another model").And.Contain("BatchExportOptions.Overwrite"));
        using var truncated = GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { MaxBatchSize = 8, Truncation = 0.5f });
        ex = Assert.ThrowsAsync<GanOnnxException>(() => BatchExporter.RunAsync(truncated, new BatchExportOptions { Count = 6, Folder = folder }));
        Assert.That(ex!.Message, Does.Contain("truncation 1"));

        var replaced = await BatchExporter.RunAsync(mlp, new BatchExportOptions { Count = 6, Folder = folder, Overwrite = true });
        Assert.That((replaced.Written, replaced.Skipped), Is.EqualTo((6L, 0L)));
        Assert.That(ManifestLines(folder).Select(l => l.MadeBy!.ModelSha256).Distinct(), Is.EqualTo(new[] { mlp.ModelSha256 }));
        var expected = mlp.Generate(1, seed: 42, startIndex: 3);
        Assert.That(File.ReadAllBytes(Path.Combine(folder, "seed42-000003.png")), Is.EqualTo(Imaging.ImageEncoder.Encode(expected, 0)));
    }

    [Test]
    public async Task ARerunWithAnotherSeedKeepsTheFirstSeedsLinesAndAnOldManifestIsNotTrusted()
    {
        var folder = TestPaths.NewTempFolder();
        await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 4, Seed = 1, Folder = folder });
        await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 4, Seed = 2, Folder = folder });
        Assert.That(ManifestLines(folder).Select(l => l.Seed), Is.EquivalentTo(new long[] { 1, 1, 1, 1, 2, 2, 2, 2 }));
        Assert.That(Directory.GetFiles(folder, "seed*.png"), Has.Length.EqualTo(8));

        // A manifest written before files recorded what made them: its files are not taken as this job's.
        var path = Path.Combine(folder, "manifest.jsonl");
        File.WriteAllLines(path, File.ReadAllLines(path).Select(l => System.Text.RegularExpressions.Regex.Replace(l, ",\"made_by\":\\{[^}]*\\}", "")));
        var ex = Assert.ThrowsAsync<GanOnnxException>(() => BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 4, Seed = 1, Folder = folder }));
        Assert.That(ex!.Message, Does.Contain("an older ganonnx"));
    }

    [Test, CancelAfter(60_000)]
    public void AJobOfATrillionImagesStartsAtOnceWithoutScanningEveryIndex()
    {
        using var cts = new CancellationTokenSource();
        // Progress<T> runs its handler on the thread pool, so a report can arrive after the job has stopped and the source
        // is disposed: such late reports have nothing left to cancel.
        var progress = new Progress<ExportProgress>(_ =>
        {
            try { cts.Cancel(); }
            catch (ObjectDisposedException) { }
        });
        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.CatchAsync<OperationCanceledException>(() => BatchExporter.RunAsync(_session,
            new BatchExportOptions { Count = 1_000_000_000_000, Folder = TestPaths.NewTempFolder() }, progress, cts.Token));
        Assert.That(started.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)));
    }

    private static List<ManifestEntry> ManifestLines(string folder) =>
        File.ReadAllLines(Path.Combine(folder, "manifest.jsonl")).Select(l => System.Text.Json.JsonSerializer.Deserialize<ManifestEntry>(l)!).ToList();

    [Test]
    public async Task JpegAndWebpExportsWriteDecodableFiles()
    {
        foreach (var format in new[] { Imaging.ImageFileFormat.Jpeg, Imaging.ImageFileFormat.Webp })
        {
            var folder = TestPaths.NewTempFolder();
            await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 3, Folder = folder, Format = format, Quality = 80 });
            var files = Directory.GetFiles(folder, "seed42-*");
            Assert.That(files, Has.Length.EqualTo(3));
            foreach (var f in files)
            {
                using var bitmap = SkiaSharp.SKBitmap.Decode(f);
                Assert.That(bitmap, Is.Not.Null, f);
                Assert.That(bitmap.Width, Is.EqualTo(28));
            }
        }
    }

    [Test]
    public void AFolderThatCannotBeCreatedIsAClearError()
    {
        var file = Path.Combine(TestPaths.NewTempFolder(), "a-file");
        File.WriteAllText(file, "x");
        Assert.That(async () => await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 2, Folder = Path.Combine(file, "sub") }),
            Throws.InstanceOf<IOException>());
        // An empty folder name said "Value cannot be null. (Parameter 'path')".
        Assert.That(async () => await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 2, Folder = " " }),
            Throws.InstanceOf<GanOnnxException>().With.Message.EqualTo("BatchExportOptions.Folder is empty; give the folder to write to (it is created if missing)."));
    }

    [Test]
    public void AnExportCancelledBeforeItStartsMakesNoFolder()
    {
        var folder = Path.Combine(TestPaths.NewTempFolder(), "out");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.That(async () => await BatchExporter.RunAsync(_session, new BatchExportOptions { Count = 2, Folder = folder }, cancellationToken: cancelled.Token),
            Throws.InstanceOf<OperationCanceledException>());
        Assert.That(Directory.Exists(folder), Is.False);
    }
}

public class ShardTests
{
    [TestCase("0/1", 0, 1)]
    [TestCase("3/4", 3, 4)]
    public void ValidShardsParse(string text, int index, int count) => Assert.That(Shard.Parse(text), Is.EqualTo(new Shard(index, count)));

    [TestCase("4/4")]
    [TestCase("-1/4")]
    [TestCase("1")]
    [TestCase("a/b")]
    [TestCase("1/0")]
    public void InvalidShardsAreRefused(string text) =>
        Assert.That(() => Shard.Parse(text, "--shard"), Throws.TypeOf<GanOnnxException>().With.Message.Contains("--shard is").And.Message.Contains("i/n"));

    [Test]
    public void SlicesCoverTheJobExactlyOnce()
    {
        var covered = Enumerable.Range(0, 7).SelectMany(i =>
        {
            var (first, length) = new Shard(i, 7).Slice(100, 25);
            return Enumerable.Range(0, (int)length).Select(k => first + k);
        }).ToList();
        Assert.That(covered, Is.EqualTo(Enumerable.Range(100, 25).Select(i => (long)i)));
    }

    [Test]
    public void SlicesOfAJobNearLongMaxValueStayExactAndContiguous()
    {
        // total × (i + 1) is past 2⁶³ here; the slices must still tile [start, start + total).
        const long total = long.MaxValue - 10;
        var next = 10L;
        for (var i = 0; i < 16; i++)
        {
            var (first, length) = new Shard(i, 16).Slice(10, total);
            Assert.That(first, Is.EqualTo(next), $"shard {i}");
            Assert.That(length, Is.EqualTo(total / 16).Or.EqualTo(total / 16 + 1), $"shard {i}");
            next = first + length;
        }
        Assert.That(next, Is.EqualTo(long.MaxValue));
    }

    [Test]
    public void AKubernetesIndexedJobGivesTheShard()
    {
        var env = new Dictionary<string, string?> { ["JOB_COMPLETION_INDEX"] = "2", ["GANONNX_SHARDS"] = "5" };
        Assert.That(Shard.FromEnvironment(null, k => env.GetValueOrDefault(k)), Is.EqualTo(new Shard(2, 5)));
        Assert.That(Shard.FromEnvironment(3, k => env.GetValueOrDefault(k)), Is.EqualTo(new Shard(2, 3)));
        Assert.That(Shard.FromEnvironment(null, _ => null), Is.Null);
        Assert.That(() => Shard.FromEnvironment(2, k => env.GetValueOrDefault(k)), Throws.TypeOf<GanOnnxException>().With.Message.Contains("not below"));
        env.Remove("GANONNX_SHARDS");
        Assert.That(() => Shard.FromEnvironment(null, k => env.GetValueOrDefault(k)), Throws.TypeOf<GanOnnxException>().With.Message.Contains("the number of shards"));
        Assert.That(() => Shard.FromEnvironment(null, k => env.GetValueOrDefault(k), "--shards N"), Throws.TypeOf<GanOnnxException>().With.Message.Contains("give --shards N"));
    }
}

public class ConditionalExportTests
{
    private static string ConditionalModel => Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-cdcgan", "model.onnx");

    [Test]
    public void PerClassWritesThatManyImagesOfEveryClassNamedByClass()
    {
        var folder = TestPaths.NewTempFolder();
        var (code, output, error) = CliRunner.Run("generate", "--model", ConditionalModel, "--per-class", "3", "--out", folder, "--quiet");
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("Wrote 30 PNG images"));
        var files = Directory.GetFiles(folder, "seed42-*").Select(Path.GetFileName).ToList();
        Assert.That(files, Has.Count.EqualTo(30));
        for (var c = 0; c < 10; c++)
            Assert.That(files.Count(f => f!.EndsWith($"-c{c}.png", StringComparison.Ordinal)), Is.EqualTo(3), $"class {c}");
        var manifest = File.ReadAllLines(Path.Combine(folder, "manifest.jsonl")).Select(l => System.Text.Json.JsonSerializer.Deserialize<ManifestEntry>(l)!);
        Assert.That(manifest.All(e => e.Class == e.Index % 10), Is.True);
    }

    [Test]
    public void AFixedClassGoesToEveryImageAndAClassOutOfRangeIsRefused()
    {
        var folder = TestPaths.NewTempFolder();
        Assert.That(CliRunner.Run("generate", "--model", ConditionalModel, "--class", "7", "--count", "4", "--out", folder, "--quiet").Code, Is.EqualTo(0));
        Assert.That(Directory.GetFiles(folder, "seed42-*").All(f => f.EndsWith("-c7.png", StringComparison.Ordinal)), Is.True);
        var (code, _, error) = CliRunner.Run("generate", "--model", ConditionalModel, "--class", "10", "--out", TestPaths.NewTempFolder());
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("--class: class 10 is out of range").And.Contain("has classes 0 to 9"));
    }

    [Test]
    public void AClassCanBeAskedForByNameInAnyCase()
    {
        var fashion = Path.Combine(TestPaths.RepositoryRoot, "models", "fashion-cdcgan", "model.onnx");
        var folder = TestPaths.NewTempFolder();
        var run = CliRunner.Run("generate", "--model", fashion, "--class", "ankle BOOT", "--count", "3", "--out", folder, "--quiet");
        Assert.That(run.Code, Is.EqualTo(0), run.Error);
        Assert.That(Directory.GetFiles(folder, "seed42-*").Select(Path.GetFileName).Order(StringComparer.Ordinal), Is.EqualTo(new[] { "seed42-000000-c9.png", "seed42-000001-c9.png", "seed42-000002-c9.png" }));

        var (code, _, error) = CliRunner.Run("generate", "--model", fashion, "--class", "Boot", "--out", TestPaths.NewTempFolder());
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--class is 'Boot': not a class index nor a class name").And.Contain("0 T-shirt/top, 1 Trouser").And.Contain("9 Ankle boot"));

        var mlp = Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-mlp", "model.onnx");
        (code, _, error) = CliRunner.Run("generate", "--model", mlp, "--class", "Boot", "--out", TestPaths.NewTempFolder());
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--class: ").And.Contain("unconditional"));

        var grid = Path.Combine(TestPaths.NewTempFolder(), "row.png");
        run = CliRunner.Run("interpolate", "--model", fashion, "--seeds", "1,2", "--steps", "3", "--class", "Trouser", "--out", grid);
        Assert.That(run.Code, Is.EqualTo(0), run.Error);
        Assert.That(File.Exists(grid), Is.True);
    }

    [Test]
    public void GenerateNamesItsFlagsWhereTheLibraryNamesProperties()
    {
        // The batch-export library's messages name BatchExportOptions properties; the command line says its flags.
        var folder = TestPaths.NewTempFolder();
        Assert.That(CliRunner.Run("generate", "--model", TestPaths.ShippedModel, "--count", "3", "--out", folder, "--quiet").Code, Is.Zero);
        var mlp = Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-mlp", "model.onnx");
        var (code, _, error) = CliRunner.Run("generate", "--model", mlp, "--count", "3", "--out", folder, "--quiet");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("made by another model").And.Contain("write to another --out, or set --overwrite").And.Not.Contain("BatchExportOptions"));
        Assert.That(CliRunner.Run("generate", "--model", mlp, "--count", "3", "--out", folder, "--quiet", "--overwrite").Code, Is.Zero);
    }

    [Test]
    public void AnOutThatIsAFileIsNamedAsSuch()
    {
        var file = Path.Combine(TestPaths.NewTempFolder(), "not-a-folder");
        File.WriteAllText(file, "keep me");
        var (code, _, error) = CliRunner.Run("generate", "--model", TestPaths.ShippedModel, "--count", "3", "--out", file, "--quiet");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain($"--out: '{file}' is a file; give a folder"));
        Assert.That(File.ReadAllText(file), Is.EqualTo("keep me"), "the file is left as it was");
    }

    [Test]
    public void ThePlainUnconditionalModelRefusesAClass()
    {
        var mlp = Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-mlp", "model.onnx");
        var folder = Path.Combine(TestPaths.NewTempFolder(), "out");
        var (code, _, error) = CliRunner.Run("generate", "--model", mlp, "--class", "1", "--out", folder);
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("unconditional"));
        Assert.That(Directory.Exists(folder), Is.False);
    }

    [Test]
    public void TheShippedSelfConditionedModelDrawsTheClusterAskedForKeepingEachImagesOtherFeatures()
    {
        // models/mnist-dcgan picks one of 20 k-means clusters from the latent's first value.
        using var session = GeneratorSession.Load(TestPaths.ShippedModel);
        Assert.That(session.Contract.LatentClasses, Is.EqualTo(20));
        var folder = TestPaths.NewTempFolder();
        Assert.That(CliRunner.Run("generate", "--model", TestPaths.ShippedModel, "--class", "3", "--count", "4", "--out", folder, "--quiet").Code, Is.EqualTo(0));
        var files = Directory.GetFiles(folder, "seed42-*.png");
        Assert.That(files, Has.Length.EqualTo(4));
        Assert.That(files.All(f => f.EndsWith("-c3.png", StringComparison.Ordinal)), Is.True);

        var thresholds = session.Contract.LatentClassThresholds;
        for (var k = 0; k < 20; k += 7)
        {
            var latents = new float[16 * 100];
            session.Sampler.FillBatch(42, 0, 16, latents);
            var plain = (float[])latents.Clone();
            session.PlaceInLatentClass(latents, k);
            for (var i = 0; i < 16; i++)
            {
                Assert.That(LatentClassRule.ClassOf(latents[i * 100], thresholds), Is.EqualTo(k));
                Assert.That(latents.AsSpan(i * 100 + 1, 99).SequenceEqual(plain.AsSpan(i * 100 + 1, 99)), Is.True);
            }
            var asked = session.Generate(16, 42, 0, classIndex: k);
            var direct = session.GenerateFromLatents(latents);
            Assert.That(asked.Pixels, Is.EqualTo(direct.Pixels));
        }
    }
}
