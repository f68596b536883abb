using GanOnnx.Runtime;

namespace GanOnnx.Runtime.Tests;

public class GeneratorSessionTests
{
    private GeneratorSession _session = null!;

    [OneTimeSetUp]
    public void LoadShippedModel() => _session = GeneratorSession.Load(TestPaths.ShippedModel);

    [OneTimeTearDown]
    public void Dispose() => _session.Dispose();

    [Test]
    public void TheShippedModelReadsAsAGenerator()
    {
        var c = _session.Contract;
        Assert.That(c.InferredFromShapes, Is.False);
        Assert.That((c.Channels, c.Height, c.Width), Is.EqualTo((1, 28, 28)));
        Assert.That(c.LatentDim, Is.GreaterThan(0));
        Assert.That(_session.Provider, Is.EqualTo(ExecutionProvider.Cpu));
    }

    [Test]
    public void GeneratedImagesAreInTheModelRangeAndNotConstant()
    {
        var batch = _session.Generate(8, seed: 1);
        Assert.That(batch.Count, Is.EqualTo(8));
        // ONNX Runtime's tanh/sigmoid may overshoot the range by a rounding error (measured: -1.00000012).
        Assert.That(batch.Pixels.Min(), Is.GreaterThanOrEqualTo(batch.ValueRange.Min - 1e-5f));
        Assert.That(batch.Pixels.Max(), Is.LessThanOrEqualTo(batch.ValueRange.Max + 1e-5f));
        Assert.That(batch.Image(0).ToArray(), Is.Not.EqualTo(batch.Image(1).ToArray()));
    }

    [Test]
    public void SameSeedGivesSameImagesWhateverTheBatchSize()
    {
        using var one = GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { MaxBatchSize = 1 });
        using var seven = GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { MaxBatchSize = 7 });
        var a = one.Generate(10, seed: 42, startIndex: 5);
        var b = seven.Generate(10, seed: 42, startIndex: 5);
        var c = _session.Generate(3, seed: 42, startIndex: 12); // images 12..14 of the same seed
        Assert.That(MaxDifference(a.Pixels, b.Pixels), Is.LessThanOrEqualTo(1e-5f));
        Assert.That(MaxDifference(a.Pixels.AsSpan(7 * a.ValuesPerImage, 3 * a.ValuesPerImage).ToArray(), c.Pixels), Is.LessThanOrEqualTo(1e-5f));
    }

    [Test]
    public void LeavingImagesOnTheGpuNeedsCudaAndSaysSo()
    {
        var called = false;
        var ex = Assert.Throws<GanOnnxException>(() => _session.GenerateOnDevice(4, seed: 1, startIndex: 0, _ => called = true));
        Assert.That(ex!.Message, Does.Contain("GenerateOnDevice needs the CUDA provider").And.Contain("runs on Cpu"));
        Assert.That(called, Is.False);
        Assert.That(() => _session.GenerateOnDevice(4, 1, 0, null!), Throws.ArgumentNullException);
    }

    [Test]
    public void ALargeBatchCopiedOutOnAllCoresEqualsSmallBatches()
    {
        // 1,400 images of 28×28 floats are 4.4 MB, over GeneratorSession.ParallelCopyBytes: the copy out of the pinned
        // buffer goes in slices on several threads, and must land exactly where the small batches put the same images.
        using var large = GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { MaxBatchSize = 1400 });
        var images = new float[1400 * large.Contract.ValuesPerImage];
        large.GenerateInto(images, 1400, seed: 4, startIndex: 50);
        Assert.That((long)images.Length * sizeof(float), Is.GreaterThan(GeneratorSession.ParallelCopyBytes));
        var small = _session.Generate(1400, seed: 4, startIndex: 50);
        Assert.That(MaxDifference(images, small.Pixels), Is.LessThanOrEqualTo(1e-5f));
        Assert.That(images.AsSpan(images.Length - 784).ToArray(), Is.Not.All.EqualTo(0f), "the last slice was copied");
    }

    [Test]
    public void ManyThreadsGiveBitIdenticalImagesToOneThread()
    {
        var expected = Enumerable.Range(0, 16).Select(i => _session.Generate(1, seed: 9, startIndex: i).Pixels).ToArray();
        var actual = new float[16][];
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, j =>
        {
            var i = j % 16;
            var pixels = _session.Generate(1, seed: 9, startIndex: i).Pixels;
            lock (actual)
            {
                if (actual[i] is { } seen) Assert.That(pixels, Is.EqualTo(seen));
                actual[i] = pixels;
            }
        });
        for (var i = 0; i < 16; i++) Assert.That(actual[i], Is.EqualTo(expected[i]), $"image {i}");
    }

    [Test]
    public void BadInputsAreRefusedBeforeAnyWork()
    {
        var dim = _session.Contract.LatentDim;
        var latents = new float[2 * dim];
        latents[dim + 3] = float.NaN;
        Assert.That(() => _session.GenerateFromLatents(latents), Throws.ArgumentException.With.Message.Contains("non-finite"));
        Assert.That(() => _session.GenerateFromLatents(new float[dim + 1]), Throws.ArgumentException.With.Message.Contains("multiple"));
        Assert.That(() => _session.Generate(-1, 1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        // More images than one array holds was an OverflowException ("Arithmetic operation resulted in an overflow").
        Assert.That(() => _session.Generate(int.MaxValue, 1), Throws.InstanceOf<ArgumentOutOfRangeException>()
            .With.Message.Contains("more than one array holds").And.Message.Contains("generate them in parts"));
        Assert.That(() => _session.GeneratePixels(3_000_000, 1), Throws.InstanceOf<InvalidOperationException>(), "a pixel output is checked first");
        // Indices past long.MaxValue − 1 do not exist; the last ones do (the batch export's rule).
        Assert.That(() => _session.Generate(3, 1, startIndex: long.MaxValue - 2), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains($"the last index is {long.MaxValue - 1}"));
        Assert.That(() => _session.GenerateInto(new float[3 * _session.Contract.ValuesPerImage], 3, 1, startIndex: long.MaxValue), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => _session.Sampler.FillBatch(1, long.MaxValue - 1, 2, new float[2 * dim]), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(_session.Generate(3, 1, startIndex: long.MaxValue - 3).Count, Is.EqualTo(3));
        Assert.That(() => _session.Generate(1, 1, classIndex: 20), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("has latent classes 0 to 19"));
        Assert.That(() => _session.Generate(1, 1, classIndex: -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => _session.PlaceInLatentClass(new float[dim], 20), Throws.InstanceOf<ArgumentOutOfRangeException>());
        using var plain = GeneratorSession.Load(Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-mlp", "model.onnx"));
        Assert.That(() => plain.Generate(1, 1, classIndex: 3), Throws.ArgumentException.With.Message.Contains("unconditional"));
        Assert.That(() => plain.PlaceInLatentClass(new float[plain.Contract.LatentDim], 0), Throws.InvalidOperationException.With.Message.Contains("no latent classes"));
    }

    [Test]
    public void DescribeClassProblemNamesTheRangeOrSaysTheModelHasNoClasses()
    {
        using var conditional = GeneratorSession.Load(Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-cdcgan", "model.onnx"));
        Assert.That(conditional.DescribeClassProblem(7), Is.Null);
        Assert.That(conditional.DescribeClassProblem(10), Does.Contain("class 10 is out of range").And.Contain("has classes 0 to 9"));
        Assert.That(() => conditional.Generate(1, 1, classIndex: 10), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("has classes 0 to 9"));
        Assert.That(_session.DescribeClassProblem(19), Is.Null);
        Assert.That(_session.DescribeClassProblem(-1), Does.Contain("latent class -1 is out of range"));
        using var plain = GeneratorSession.Load(Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-mlp", "model.onnx"));
        Assert.That(plain.DescribeClassProblem(0), Does.Contain("unconditional"));
    }

    [Test]
    public void MissingAndCorruptFilesAreRefusedWithClearMessages()
    {
        Assert.That(() => GeneratorSession.Load("/nonexistent/model.onnx"),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("does not exist"));
        var folder = TestPaths.NewTempFolder();
        var corrupt = Path.Combine(folder, "corrupt.onnx");
        File.WriteAllBytes(corrupt, File.ReadAllBytes(TestPaths.ShippedModel).AsSpan(0, 5000).ToArray());
        Assert.That(() => GeneratorSession.Load(corrupt),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("could not be loaded as an ONNX model"));
        Assert.That(() => GeneratorSession.Load(Array.Empty<byte>()), Throws.TypeOf<GanOnnxException>().With.Message.Contains("empty"));
    }

    [Test]
    public void AskingForAProviderThatCannotLoadNamesThePackage()
    {
        Assert.That(() => GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { Provider = ExecutionProvider.Cuda }),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("Microsoft.ML.OnnxRuntime.Gpu"));
        using var auto = GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { Provider = ExecutionProvider.Auto });
        Assert.That(auto.Provider, Is.EqualTo(ExecutionProvider.Cpu));
        Assert.That(auto.ProviderReport, Does.Contain("CUDA not taken").And.Contain("DirectML not taken"));
    }

    [Test]
    public void InvalidOptionsAreRefusedNamingTheOption()
    {
        Assert.That(() => GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { MaxBatchSize = 0 }),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("MaxBatchSize"));
        Assert.That(() => GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { Truncation = 2f }),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("Truncation"));
    }

    private static float MaxDifference(float[] a, float[] b)
    {
        Assert.That(a, Has.Length.EqualTo(b.Length));
        var max = 0f;
        for (var i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
