using GanOnnx.Runtime;

namespace GanOnnx.Runtime.Tests;

public class GeneratorSessionStreamingTests
{
    private GeneratorSession _session = null!;

    [OneTimeSetUp]
    public void Load() => _session = GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { MaxBatchSize = 4 });

    [OneTimeTearDown]
    public void Dispose() => _session.Dispose();

    [Test]
    public async Task TheStreamYieldsTheSameImagesAsOneCallInBatchesOfTheMaximumSize()
    {
        var batches = new List<ImageBatch>();
        await foreach (var batch in _session.GenerateBatchesAsync(10, seed: 5, startIndex: 3)) batches.Add(batch);
        Assert.That(batches.Select(b => b.Count), Is.EqualTo(new[] { 4, 4, 2 }));
        Assert.That(batches.Select(b => b.StartIndex), Is.EqualTo(new long[] { 3, 7, 11 }));
        var whole = _session.Generate(10, seed: 5, startIndex: 3);
        Assert.That(batches.SelectMany(b => b.Pixels).ToArray(), Is.EqualTo(whole.Pixels));
    }

    [Test]
    public void TheStreamChecksItsArgumentsWhenCalled()
    {
        Assert.That(() => _session.GenerateBatchesAsync(-1, 1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => _session.GenerateBatchesAsync(1, 1, classIndex: 20), Throws.InstanceOf<ArgumentException>(), "the shipped model has latent clusters 0 to 19");
    }

    [Test]
    public void TheStreamStopsWhenCancelled()
    {
        using var cts = new CancellationTokenSource();
        var seen = 0;
        Assert.That(async () =>
        {
            await foreach (var _ in _session.GenerateBatchesAsync(1000, seed: 1, cancellationToken: cts.Token))
            {
                if (++seen == 2) await cts.CancelAsync();
            }
        }, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(seen, Is.EqualTo(2));
    }

    [Test]
    public void GenerateIntoWritesWhatGenerateReturnsAndAllocatesLittleOnceWarm()
    {
        var destination = new float[9 * _session.Contract.ValuesPerImage];
        _session.GenerateInto(destination, 9, seed: 2);
        Assert.That(destination, Is.EqualTo(_session.Generate(9, seed: 2).Pixels));

        for (var i = 0; i < 3; i++) _session.GenerateInto(destination, 9, seed: 2); // warm
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++) _session.GenerateInto(destination, 9, seed: 2);
        var perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / 20.0;
        TestContext.Out.WriteLine($"managed bytes per GenerateInto of 9 images (3 inference calls): {perCall}");
        // Our buffers are reused; what remains is ONNX Runtime's managed Run wrapper (a few small arrays per call).
        Assert.That(perCall, Is.LessThan(2048));
    }

    [Test]
    public void EveryBatchSizeSharesOneSetOfBuffersAndGetsItsOwnImages()
    {
        // One pinned set sized to MaxBatchSize serves every batch size (a binding per size over its first part); the
        // pool holds one set per concurrent caller, not one per size ever asked for.
        using var session = GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { MaxBatchSize = 8 });
        var reference = session.Generate(8, seed: 4);
        foreach (var n in new[] { 8, 1, 5, 3, 8, 2, 7 })
        {
            var images = session.Generate(n, seed: 4);
            Assert.That(images.Pixels, Is.EqualTo(reference.Pixels.AsSpan(0, n * session.Contract.ValuesPerImage).ToArray()), $"batch of {n}");
        }
        Assert.That(session.PooledBufferSets, Is.EqualTo(1));

        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            Assert.That(session.Generate(1 + i % 8, seed: 4).Pixels, Is.EqualTo(reference.Pixels.AsSpan(0, (1 + i % 8) * session.Contract.ValuesPerImage).ToArray())));
        Assert.That(session.PooledBufferSets, Is.InRange(1, 4));
    }

    [Test]
    public void DestinationTooSmallIsRefused()
    {
        Assert.That(() => _session.GenerateInto(new float[10], 1, seed: 1), Throws.ArgumentException.With.Message.Contains("destination"));
    }
}
