
namespace GanOnnx.Runtime.Tests;

/// <summary>Generators whose graph fixes the batch size, as <c>torch.onnx.export</c> writes them without <c>dynamic_axes</c>.</summary>
public class FixedBatchTests
{
    /// <summary>
    /// The shipped model with its symbolic "batch" dimension (Dimension.dim_param, 7 bytes) replaced in place by
    /// dim_value <paramref name="batch"/> plus an ignored field of the same length, so no enclosing length changes.
    /// </summary>
    public static string FixedBatchCopy(int batch, string model = "mnist-dcgan")
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.RepositoryRoot, "models", model, "model.onnx"));
        byte[] symbolic = [0x12, 0x05, .. "batch"u8];
        byte[] fixedDim = [0x08, (byte)batch, 0x7A, 0x03, 0, 0, 0];
        var replaced = 0;
        for (var i = bytes.AsSpan().IndexOf(symbolic); i >= 0; i = bytes.AsSpan().IndexOf(symbolic))
        {
            fixedDim.CopyTo(bytes, i);
            replaced++;
        }
        Assert.That(replaced, Is.GreaterThanOrEqualTo(2), "input and output batch dimensions");
        var path = Path.Combine(TestPaths.NewTempFolder(), $"fixed-batch-{batch}.onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [TestCase(1)]
    [TestCase(4)]
    public void AFixedBatchModelGivesTheSameImagesAsTheSymbolicOneForAnyCount(int batch)
    {
        using var symbolic = GeneratorSession.Load(TestPaths.ShippedModel);
        using var fixedBatch = GeneratorSession.Load(FixedBatchCopy(batch), new GeneratorOptions { MaxBatchSize = 64, PixelOutput = PixelLayout.Nhwc });
        Assert.That(fixedBatch.Contract.FixedBatchSize, Is.EqualTo(batch));
        Assert.That(fixedBatch.MaxBatchSize, Is.EqualTo(batch));
        Assert.That(symbolic.Contract.FixedBatchSize, Is.Null);

        var expected = symbolic.Generate(10, seed: 42, startIndex: 3);
        Assert.That(fixedBatch.Generate(10, seed: 42, startIndex: 3).Pixels, Is.EqualTo(expected.Pixels).Within(1e-5f));
        Assert.That(fixedBatch.GeneratePixels(10, seed: 42, startIndex: 3).Pixels, Has.Length.EqualTo(10 * 784));

        var latents = new float[5 * symbolic.Contract.LatentDim];
        symbolic.Sampler.FillBatch(7, 0, 5, latents);
        var a = new float[5 * 784];
        var b = new float[5 * 784];
        symbolic.Run(latents, default, a);
        fixedBatch.Run(latents, default, b);
        Assert.That(b, Is.EqualTo(a).Within(1e-5f));
    }
}
