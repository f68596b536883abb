using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests;

/// <summary>Differentiable augmentation (--augment).</summary>
public class DiffAugmentTests
{
    /// <summary>A batch of images with a distinct positive value in every pixel, so that any move or erasure shows.</summary>
    private static Tensor Distinct(int batch, int channels, int size) =>
        arange(1, 1 + batch * channels * size * size, dtype: ScalarType.Float32).view(batch, channels, size, size);

    /// <summary>Image <paramref name="image"/> [C, H, W] shifted by (dy, dx), zeros shifted in.</summary>
    private static float[] Shifted(Tensor image, int dy, int dx)
    {
        var (c, h, w) = ((int)image.shape[0], (int)image.shape[1], (int)image.shape[2]);
        var source = image.data<float>().ToArray();
        var result = new float[source.Length];
        for (var ch = 0; ch < c; ch++)
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                {
                    var (sy, sx) = (y - dy, x - dx);
                    if (sy >= 0 && sy < h && sx >= 0 && sx < w) result[(ch * h + y) * w + x] = source[(ch * h + sy) * w + sx];
                }
        return result;
    }

    [Test]
    public void TranslationShiftsEachImageByUpToAnEighthOfItsSize()
    {
        manual_seed(4);
        using var images = Distinct(32, 3, 16);
        using var moved = DiffAugment.Apply(images, Augmentations.Translation);
        var shifts = new HashSet<(int, int)>();
        for (var i = 0; i < 32; i++)
        {
            using var image = images[i];
            var actual = moved[i].data<float>().ToArray();
            var match = (from dy in Enumerable.Range(-2, 5) from dx in Enumerable.Range(-2, 5)
                         where Shifted(image, dy, dx).SequenceEqual(actual) select (dy, dx)).ToList();
            Assert.That(match, Has.Count.EqualTo(1), $"image {i} is one shift of ±2 pixels of its original");
            shifts.Add(match[0]);
        }
        Assert.That(shifts.Count, Is.GreaterThan(10), "each image draws its own shift");
    }

    [Test]
    public void CutoutZeroesOneSquareOfHalfTheSizeCutByTheEdges()
    {
        manual_seed(5);
        using var images = Distinct(32, 1, 16);
        using var cut = DiffAugment.Apply(images, Augmentations.Cutout);
        var areas = new List<int>();
        for (var i = 0; i < 32; i++)
        {
            var before = images[i].data<float>().ToArray();
            var after = cut[i].data<float>().ToArray();
            var zeroed = Enumerable.Range(0, before.Length).Where(p => after[p] == 0).ToList();
            Assert.That(Enumerable.Range(0, before.Length).Where(p => after[p] != 0).All(p => after[p] == before[p]), "the rest is untouched");
            var (rows, cols) = (zeroed.Select(p => p / 16).ToList(), zeroed.Select(p => p % 16).ToList());
            var (height, width) = (rows.Max() - rows.Min() + 1, cols.Max() - cols.Min() + 1);
            Assert.That(zeroed, Has.Count.EqualTo(height * width), $"image {i}: the zeros form one rectangle");
            Assert.That(height, Is.InRange(4, 8), $"image {i}: height");
            Assert.That(width, Is.InRange(4, 8), $"image {i}: width");
            areas.Add(zeroed.Count);
        }
        Assert.That(areas.Max(), Is.EqualTo(64), "an 8×8 square where it fits");
    }

    [Test]
    public void ColorChangesBrightnessAndContrastPerImage()
    {
        manual_seed(6);
        using var images = rand(16, 3, 8, 8);
        using var changed = DiffAugment.Apply(images, Augmentations.Color);
        using var difference = (changed - images).abs().mean([1L, 2L, 3L]);
        Assert.That(difference.data<float>().ToArray(), Has.All.GreaterThan(1e-3f));
        Assert.That(changed.shape, Is.EqualTo(images.shape));
    }

    [Test]
    public void GradientsFlowThroughTheAugmentations()
    {
        manual_seed(7);
        using var images = rand(8, 1, 16, 16).requires_grad_(true);
        using var augmented = DiffAugment.Apply(images, Augmentations.Translation | Augmentations.Cutout);
        augmented.sum().backward();
        using var grad = images.grad!;
        // Each output pixel that came from an input pixel passes a gradient of exactly 1 back to it.
        Assert.That((double)grad.sum().item<float>(), Is.EqualTo((double)augmented.ne(0).sum().item<long>()).Within(1e-3));
        Assert.That(grad.max().item<float>(), Is.EqualTo(1f));
    }

    [TestCase("translation,cutout", Augmentations.Translation | Augmentations.Cutout)]
    [TestCase("color", Augmentations.Color)]
    [TestCase("none", Augmentations.None)]
    public void TheOptionIsParsed(string text, Augmentations expected)
    {
        Assert.That(DiffAugment.Parse(text), Is.EqualTo(expected));
        Assert.That(DiffAugment.Parse(DiffAugment.NameOf(expected)), Is.EqualTo(expected));
    }

    [Test]
    public void AnUnknownAugmentationIsRefusedBeforeAnythingIsWritten() =>
        Assert.That(TestData.RefusedTraining("--augment translation,flip"), Does.Contain("--augment has 'flip'"));

    [Test]
    public void AnAugmentedRunResumesExactly()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8 };
        using var data = TestData.Dataset(40, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 4, BatchSize = 16, SampleEvery = 0, CheckpointEvery = 0, Loss = LossKind.Hinge, Augment = Augmentations.Translation | Augmentations.Cutout | Augmentations.Color };
        var straight = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var halfway = new GanTrainer(model, options with { Steps = 2 }, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var resumed = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data, halfway);
        var plain = new GanTrainer(model, options with { Augment = Augmentations.None }, TestData.NewTempFolder(), TextWriter.Null).Train(data);

        static float[] Weights(string path) => TestData.GeneratorWeights(path);
        Assert.That(Weights(resumed), Is.EqualTo(Weights(straight)));
        Assert.That(Weights(plain), Is.Not.EqualTo(Weights(straight)), "the augmentation changes what the generator learns");
        Assert.That(Checkpoint.Load(straight).Info.Training.Augment, Is.EqualTo(options.Augment), "kept in the checkpoint");
    }
}
