using GanOnnx.Imaging;
using GanOnnx.Runtime;
using GanOnnx.Trainer.Models;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// Runs a generator in eval mode on the latents of (seed, index) from the runtime's <see cref="LatentSampler"/> — the
/// same latents the exported model gets from <c>GeneratorSession.Generate</c> — so a training preview and the runtime's
/// output show the same images.
/// </summary>
public static class SampleGrid
{
    /// <summary>Generates images 0…count−1 of <paramref name="seed"/>; conditional models get class index mod classes.</summary>
    public static ImageBatch Generate(Generator generator, long seed, int count)
    {
        var config = generator.Config;
        var sampler = new LatentSampler(config.LatentDim, config.LatentDistribution);
        var latents = new float[count * config.LatentDim];
        sampler.FillBatch(seed, 0, count, latents);
        long[]? labels = config.NumClasses > 0 ? Enumerable.Range(0, count).Select(i => (long)(i % config.NumClasses)).ToArray() : null;

        var wasTraining = generator.training;
        generator.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var weights = generator.Body.parameters().First();
            var z = tensor(latents, [count, config.LatentDim]).to(weights.dtype, weights.device);
            var y = labels is null ? null : tensor(labels, [count]).to(weights.device);
            var images = generator.forward(z, y).cpu().to_type(ScalarType.Float32).contiguous();
            var pixels = images.data<float>().ToArray();
            return new ImageBatch(pixels, count, config.Channels, config.ImageSize, config.ImageSize, config.ValueRange, seed, 0, labels);
        }
        finally
        {
            generator.train(wasTraining);
        }
    }

    /// <summary>
    /// Generates a grid of <paramref name="count"/> images and writes it as a PNG. A conditional model with 2–32 classes
    /// gets one column per class, as <c>ganonnx generate</c> draws it, with the count rounded up to whole rows.
    /// </summary>
    public static void Save(Generator generator, long seed, int count, string path)
    {
        var classes = generator.Config.NumClasses;
        var byClass = classes is > 1 and <= 32 && count >= classes;
        var images = byClass ? (count + classes - 1) / classes * classes : count;
        ImageGrid.Save(Generate(generator, seed, images), path, columns: byClass ? classes : 0);
    }
}
