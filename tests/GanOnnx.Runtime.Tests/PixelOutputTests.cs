using GanOnnx.Imaging;

namespace GanOnnx.Runtime.Tests;

public class PixelOutputTests
{
    private static IEnumerable<string> ShippedModels() => TestPaths.ShippedModelNames();

    [TestCaseSource(nameof(ShippedModels))]
    public void InGraphPixelsAreTheEncodersMappingOfTheFloatImagesInBothLayouts(string name)
    {
        var path = Path.Combine(TestPaths.RepositoryRoot, "models", name, "model.onnx");
        using var floats = GeneratorSession.Load(path, new GeneratorOptions { MaxBatchSize = 16 });
        using var nhwc = GeneratorSession.Load(path, new GeneratorOptions { MaxBatchSize = 16, PixelOutput = PixelLayout.Nhwc });
        using var nchw = GeneratorSession.Load(path, new GeneratorOptions { MaxBatchSize = 7, PixelOutput = PixelLayout.Nchw });
        var reference = floats.Generate(20, seed: 42, startIndex: 3);
        var a = nhwc.GeneratePixels(20, seed: 42, startIndex: 3);
        var b = nchw.GeneratePixels(20, seed: 42, startIndex: 3);
        Assert.That((a.Layout, b.Layout, a.Labels), Is.EqualTo((PixelLayout.Nhwc, PixelLayout.Nchw, reference.Labels)));

        int c = reference.Channels, h = reference.Height, w = reference.Width, mismatches = 0;
        for (var i = 0; i < reference.Count; i++)
        {
            var image = reference.Image(i);
            var interleaved = a.Image(i);
            var planes = b.Image(i);
            for (var ch = 0; ch < c; ch++)
                for (var p = 0; p < h * w; p++)
                {
                    var expected = ImageEncoder.ToByte(image[ch * h * w + p], reference.ValueRange);
                    if (interleaved[p * c + ch] != expected || planes[ch * h * w + p] != expected) mismatches++;
                }
        }
        Assert.That(mismatches, Is.Zero, $"bytes that differ from ImageEncoder.ToByte of the float output, of {reference.Count * reference.ValuesPerImage}");
        // The encoded files are the same too: what 'ganonnx generate' writes does not depend on where the mapping ran.
        Assert.That(ImageEncoder.Encode(a, 5), Is.EqualTo(ImageEncoder.Encode(reference, 5)));
        Assert.That(ImageEncoder.Encode(b, 5), Is.EqualTo(ImageEncoder.Encode(reference, 5)));
    }

    [Test]
    public void ASessionWithPixelsStillGivesTheModelsFloats()
    {
        using var floats = GeneratorSession.Load(TestPaths.ShippedModel);
        using var both = GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { PixelOutput = PixelLayout.Nhwc });
        Assert.That(both.Contract, Is.EqualTo(floats.Contract).Using<ModelContract>((x, y) => x.ImageOutputName == y.ImageOutputName && x.ValuesPerImage == y.ValuesPerImage && x.LatentDim == y.LatentDim));
        Assert.That(both.Generate(9, seed: 4).Pixels, Is.EqualTo(floats.Generate(9, seed: 4).Pixels));
    }

    [Test]
    public void PixelsWithoutAPixelOutputAreRefusedNamingTheOption()
    {
        using var session = GeneratorSession.Load(TestPaths.ShippedModel);
        var ex = Assert.Throws<InvalidOperationException>(() => session.GeneratePixels(1, seed: 1));
        Assert.That(ex!.Message, Does.Contain("PixelOutput"));
    }

    [Test]
    public void PixelsIntoATooSmallBufferAreRefusedBeforeAnyWork()
    {
        using var session = GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { PixelOutput = PixelLayout.Nchw });
        var ex = Assert.Throws<ArgumentException>(() => session.GeneratePixelsInto(new byte[100], 1, seed: 1));
        Assert.That(ex!.Message, Does.Contain("784"));
    }

    [Test]
    public void CudaGraphsOnTheCpuProviderAreRefusedNamingTheOption()
    {
        var ex = Assert.Throws<GanOnnxException>(() => GeneratorSession.Load(TestPaths.ShippedModel, new GeneratorOptions { CudaGraph = true }));
        Assert.That(ex!.Message, Does.Contain("CudaGraph").And.Contain("Cpu"));
    }
}
