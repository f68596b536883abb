using BenchmarkDotNet.Attributes;
using GanOnnx.Imaging;
using GanOnnx.Runtime;

namespace GanOnnx.Benchmarks;

/// <summary>
/// Generation from the shipped MNIST DCGAN: the allocating <c>Generate</c> (baseline) against the pooled
/// <c>GenerateInto</c>, whose managed allocation per call the memory diagnoser shows (only ONNX Runtime's own wrapper).
/// </summary>
[MemoryDiagnoser]
public class GenerationBenchmarks
{
    private GeneratorSession _session = null!;
    private float[] _destination = [];
    private long _index;

    [Params(1, 64)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _session = GeneratorSession.Load(ModelPath(), new GeneratorOptions { MaxBatchSize = 256 });
        _destination = new float[Batch * _session.Contract.ValuesPerImage];
    }

    [GlobalCleanup]
    public void Cleanup() => _session.Dispose();

    [Benchmark(Baseline = true)]
    public ImageBatch Generate() => _session.Generate(Batch, seed: 1, startIndex: _index++);

    [Benchmark]
    public void GenerateInto() => _session.GenerateInto(_destination, Batch, seed: 1, startIndex: _index++);

    [Benchmark]
    public void SampleLatentsOnly() => _session.Sampler.FillBatch(1, _index++, Batch, _destination.AsSpan(0, Batch * _session.Contract.LatentDim));

    internal static string ModelPath() => GanOnnx.Tests.TestPaths.ShippedModel;
}

/// <summary>Value mapping and encoding of one 28×28 image.</summary>
[MemoryDiagnoser]
public class EncodingBenchmarks
{
    private ImageBatch _batch = null!;

    [GlobalSetup]
    public void Setup()
    {
        using var session = GeneratorSession.Load(GenerationBenchmarks.ModelPath());
        _batch = session.Generate(1, seed: 1);
    }

    [Benchmark(Baseline = true)]
    public byte[] Png() => ImageEncoder.Encode(_batch, 0, ImageFileFormat.Png);

    [Benchmark]
    public byte[] Jpeg() => ImageEncoder.Encode(_batch, 0, ImageFileFormat.Jpeg, 90);

    [Benchmark]
    public void MapOnly()
    {
        using var bitmap = ImageEncoder.ToBitmap(_batch.Image(0), _batch.Channels, _batch.Height, _batch.Width, _batch.ValueRange);
    }
}
