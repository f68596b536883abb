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
        Assert.That(() => _session.GenerateBatchesAsync(1, 1, label: 20), Throws.InstanceOf<ArgumentException>(), "the shipped model has latent clusters 0 to 19");
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
        var destination = new float[9 * _session.Contract.ImageSize];
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
    public void DestinationTooSmallIsRefused()
    {
        Assert.That(() => _session.GenerateInto(new float[10], 1, seed: 1), Throws.ArgumentException.With.Message.Contains("destination"));
    }
}
