using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// Recomputes a generator's BatchNorm running statistics from its own activations ("standing statistics"). The EMA of the
/// weights needs this: BatchNorm statistics copied from the raw generator describe the raw generator's activations, not
/// the averaged one's, and scored worse than the raw weights for that reason.
/// </summary>
public static class BatchNormCalibration
{
    /// <summary>Batches of latents used by the trainer.</summary>
    public const int DefaultBatches = 20;
    /// <summary>Latents per batch used by the trainer.</summary>
    public const int DefaultBatchSize = 256;

    /// <summary>
    /// Runs <paramref name="batches"/> batches of fresh latents (and labels) through <paramref name="generator"/> in
    /// training mode, without gradients, and sets every BatchNorm layer's running mean and variance to the average over
    /// those batches. A conditional generator gets uniformly drawn labels, or, given <paramref name="classPool"/> (the
    /// training labels), labels drawn from it: the class mix its training steps asked for with
    /// <see cref="TrainingOptions.GeneratorClassesFromData"/>, which its statistics must describe. The latents and draws
    /// come from a private generator seeded with <paramref name="seed"/>: the global random state is left alone, so an
    /// exact resume stays exact.
    /// </summary>
    public static void Recalibrate(Generator generator, long seed, Tensor? classPool = null, int batches = DefaultBatches, int batchSize = DefaultBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batches, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 2);
        var norms = generator.modules().OfType<NormBase>().Where(n => n.running_mean is not null).ToList();
        if (norms.Count == 0) return;
        var config = generator.Config;
        var device = generator.parameters().First().device;
        var momentum = norms.Select(n => n.momentum).ToList();
        var wasTraining = generator.training;
        using var random = new torch.Generator(unchecked((ulong)seed) ^ 0x9E3779B97F4A7C15UL);
        try
        {
            using var _ = no_grad();
            foreach (var n in norms)
            {
                n.running_mean!.zero_();
                n.running_var!.fill_(1);
            }
            generator.train();
            for (var i = 1; i <= batches; i++)
            {
                using var scope = NewDisposeScope();
                // momentum 1/i makes the running values the plain average of the i batches seen so far.
                foreach (var n in norms) n.momentum = 1.0 / i;
                var z = Generator.SampleLatents(config, batchSize, device, random);
                var labels = config.NumClasses == 0 ? null
                    : classPool is null ? randint(0, config.NumClasses, [batchSize], dtype: ScalarType.Int64, generator: random).to(device)
                    : classPool.index_select(0, randint(0, classPool.shape[0], [batchSize], dtype: ScalarType.Int64, generator: random).to(classPool.device)).to(device);
                generator.forward(z, labels);
            }
        }
        finally
        {
            for (var i = 0; i < norms.Count; i++) norms[i].momentum = momentum[i];
            generator.train(wasTraining);
        }
    }
}
