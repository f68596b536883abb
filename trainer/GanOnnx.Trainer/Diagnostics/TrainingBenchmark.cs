using System.Diagnostics;
using GanOnnx.Trainer.Data;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;

namespace GanOnnx.Trainer.Diagnostics;

/// <summary>Training speed and memory of a model on synthetic data of its shape (no files needed).</summary>
public static class TrainingBenchmark
{
    /// <summary>One measurement.</summary>
    public sealed record Result(string Name, int Batch, int Steps, double StepsPerSecond, IReadOnlyDictionary<int, double> ResidentMiBAtStep);

    /// <summary>The models the write-ups describe, as benchmarked by default.</summary>
    public static IReadOnlyList<(string Name, ModelConfig Model, TrainingOptions Options)> Presets() =>
    [
        ("mlp 28×28", new ModelConfig { Architecture = GanArchitecture.Mlp }, TrainingRecipe.For(GanArchitecture.Mlp, LossKind.Bce)),
        ("keras-dcgan 28×28", new ModelConfig { Architecture = GanArchitecture.KerasDcgan }, TrainingRecipe.For(GanArchitecture.KerasDcgan, LossKind.Bce)),
        ("dcgan 28×28", new ModelConfig { Architecture = GanArchitecture.Dcgan }, TrainingRecipe.For(GanArchitecture.Dcgan, LossKind.Bce)),
        ("dcgan 28×28 conditional", new ModelConfig { Architecture = GanArchitecture.Dcgan, NumClasses = 10 }, TrainingRecipe.For(GanArchitecture.Dcgan, LossKind.Bce)),
        ("dcgan 28×28 self-conditioned", new ModelConfig { Architecture = GanArchitecture.Dcgan, LatentClasses = 50, Clustered = true }, TrainingRecipe.For(GanArchitecture.Dcgan, LossKind.Hinge)),
        ("dcgan 64×64 RGB", new ModelConfig { Architecture = GanArchitecture.Dcgan, ImageSize = 64, Channels = 3 }, TrainingRecipe.For(GanArchitecture.Dcgan, LossKind.Bce)),
        ("dcgan 28×28 wgan-gp", new ModelConfig { Architecture = GanArchitecture.Dcgan }, TrainingRecipe.For(GanArchitecture.Dcgan, LossKind.WganGp)),
    ];

    /// <summary>
    /// Trains <paramref name="model"/> for <paramref name="steps"/> steps at <paramref name="batch"/> on 1,024 synthetic
    /// images and reports steps per second (after a 3-step warm-up) and the resident memory after the steps listed in
    /// <paramref name="memoryAt"/> (measured after a full garbage collection).
    /// </summary>
    public static Result Measure(string name, ModelConfig model, TrainingOptions options, int batch, int steps, IReadOnlyCollection<int>? memoryAt = null)
    {
        var size = model.ImageSize * model.ImageSize * model.Channels;
        var rng = new Random(1);
        var pixels = new byte[1024 * size];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, 1024).Select(i => (byte)(i % Math.Max(1, model.NumClasses))).ToArray();
        using var data = ImageDataset.FromBytes("synthetic", pixels, labels, 1024, model.Channels, model.ImageSize, model.ImageSize, model.ValueRange);
        var folder = Directory.CreateTempSubdirectory("ganonnx-train-bench-").FullName;
        var memory = new Dictionary<int, double>();
        var stopwatch = new Stopwatch();
        try
        {
            var trainer = new GanTrainer(model, options with
            {
                Steps = steps + 3, BatchSize = batch, LogEvery = int.MaxValue / 2, SampleEvery = 0, CheckpointEvery = 0,
            }, folder, TextWriter.Null)
            {
                StepCompleted = step =>
                {
                    if (step == 3) stopwatch.Start();
                    if (step == steps + 3) stopwatch.Stop();
                    if (memoryAt?.Contains(step - 3) == true)
                    {
                        GC.Collect();
                        GC.WaitForPendingFinalizers();
                        using var process = Process.GetCurrentProcess();
                        memory[step - 3] = process.WorkingSet64 / (1024.0 * 1024.0);
                    }
                },
            };
            trainer.Train(data);
            return new Result(name, batch, steps, steps / stopwatch.Elapsed.TotalSeconds, memory);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
