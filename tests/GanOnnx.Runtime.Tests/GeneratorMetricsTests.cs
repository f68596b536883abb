using System.Diagnostics.Metrics;

namespace GanOnnx.Runtime.Tests;

/// <summary>The runtime's metrics (<see cref="GeneratorMetrics"/>), read as an app's listener reads them.</summary>
public class GeneratorMetricsTests
{
    /// <summary>Every measurement of the meter whose <c>ganonnx.model</c> tag is <paramref name="model"/>.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly string _model;
        public List<(string Instrument, double Value, Dictionary<string, object?> Tags)> Measurements { get; } = [];

        public Recorder(string model)
        {
            _model = model;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == GeneratorMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            _listener.Start();
        }

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var map = new Dictionary<string, object?>();
            foreach (var tag in tags) map[tag.Key] = tag.Value;
            if (Equals(map.GetValueOrDefault("ganonnx.model"), _model))
                lock (Measurements) Measurements.Add((instrument.Name, value, map));
        }

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>A copy of the shipped model under a name no other test uses, so that only this test's sessions are counted.</summary>
    private static string UniqueModel()
    {
        var path = Path.Combine(TestPaths.NewTempFolder(), $"metrics-{Guid.NewGuid():N}.onnx");
        File.Copy(TestPaths.ShippedModel, path);
        return path;
    }

    [Test]
    public void ImagesBatchesAndLoadsAreMeasuredWithTheModelProviderAndOutput()
    {
        var path = UniqueModel();
        var name = Path.GetFileName(path);
        using var recorder = new Recorder(name);
        using (var session = GeneratorSession.Load(path, new GeneratorOptions { MaxBatchSize = 4, PixelOutput = PixelLayout.Nhwc }))
        {
            session.Generate(10, seed: 1);                        // batches of 4, 4 and 2
            session.GeneratePixels(3, seed: 1);
            session.GenerateFromLatents(new float[2 * session.Contract.LatentDim]);
        }

        var m = recorder.Measurements;
        var images = m.Where(x => x.Instrument == "ganonnx.generator.images").ToList();
        Assert.That(images.Where(x => Equals(x.Tags["ganonnx.output"], "float")).Select(x => x.Value), Is.EqualTo(new double[] { 4, 4, 2, 2 }));
        Assert.That(images.Where(x => Equals(x.Tags["ganonnx.output"], "uint8")).Select(x => x.Value), Is.EqualTo(new double[] { 3 }));
        Assert.That(images.All(x => Equals(x.Tags["ganonnx.provider"], "cpu")), Is.True);

        var batches = m.Where(x => x.Instrument == "ganonnx.generator.batch.duration").ToList();
        Assert.That(batches, Has.Count.EqualTo(5), "one per inference call");
        Assert.That(batches.All(x => x.Value is > 0 and < 60), Is.True, "seconds");

        var loads = m.Where(x => x.Instrument == "ganonnx.generator.load.duration").ToList();
        Assert.That(loads, Has.Count.EqualTo(1));
        Assert.That(loads[0].Value, Is.GreaterThan(0));
        Assert.That(loads[0].Tags.Keys, Is.EquivalentTo(new[] { "ganonnx.model", "ganonnx.provider" }));
    }

    [Test]
    public void AFailedCallCountsNoImages()
    {
        var path = UniqueModel();
        using var recorder = new Recorder(Path.GetFileName(path));
        using var session = GeneratorSession.Load(path);
        var latents = new float[session.Contract.LatentDim];
        latents[3] = float.NaN;
        Assert.That(() => session.GenerateFromLatents(latents), Throws.InstanceOf<ArgumentException>());
        Assert.That(recorder.Measurements.Where(x => x.Instrument != "ganonnx.generator.load.duration"), Is.Empty);
    }
}
