using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GanOnnx.Trainer.Data;
using GanOnnx.Trainer.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;
using F = TorchSharp.torch.nn.functional;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// Trains a GAN with the non-saturating BCE loss: for each step, one discriminator update on a real and a fake batch,
/// then one generator update. Writes log lines, a JSON-lines metrics file, sample grids and checkpoints into
/// <see cref="OutputFolder"/>. Every step runs inside a dispose scope, so memory stays flat over long runs.
/// </summary>
public sealed class GanTrainer
{
    /// <summary>Creates a trainer; nothing runs until <see cref="Train"/>.</summary>
    public GanTrainer(ModelConfig model, TrainingOptions options, string outputFolder, TextWriter? log = null)
    {
        model.Validate();
        options.Validate();
        Model = model;
        Options = options;
        OutputFolder = outputFolder;
        Log = log ?? Console.Out;
    }

    /// <summary>Model shape.</summary>
    public ModelConfig Model { get; }
    /// <summary>Training options.</summary>
    public TrainingOptions Options { get; }
    /// <summary>Where logs, samples and checkpoints go.</summary>
    public string OutputFolder { get; }
    /// <summary>Where progress lines are written.</summary>
    public TextWriter Log { get; }

    /// <summary>Path of the final checkpoint.</summary>
    public string FinalCheckpointPath => Path.Combine(OutputFolder, "checkpoint.gockpt");

    /// <summary>Trains on <paramref name="data"/> and returns the path of the final checkpoint.</summary>
    public string Train(ImageDataset data, CancellationToken cancellationToken = default)
    {
        // ---- Setup -------------------------------------------------------------------------------------------------
        if (data.Channels != Model.Channels || data.Height != Model.ImageSize || data.Width != Model.ImageSize)
            throw new TrainerException($"The dataset '{data.Name}' has {data.Channels}×{data.Height}×{data.Width} images but the model makes {Model.Channels}×{Model.ImageSize}×{Model.ImageSize}.");
        if (Model.NumClasses > 0 && data.ClassNames.Count > Model.NumClasses)
            throw new TrainerException($"The dataset '{data.Name}' has {data.ClassNames.Count} classes but the model is built for {Model.NumClasses}.");
        Directory.CreateDirectory(OutputFolder);
        torch.manual_seed(Options.Seed);
        var shuffle = new torch.Generator(unchecked((ulong)Options.Seed) ^ 0x5DEECE66DUL);
        var device = CPU;
        var stopwatch = Stopwatch.StartNew();

        // ---- Models and optimizers -----------------------------------------------------------------------------------
        using var generator = new Generator(Model);
        using var discriminator = new Discriminator(Model);
        generator.to(device).train();
        discriminator.to(device).train();
        using var ema = new Generator(Model);
        ema.load_state_dict(generator.state_dict());
        ema.to(device).eval();
        using var optG = CreateOptimizer(generator.parameters(), Options.LearningRateG);
        using var optD = CreateOptimizer(discriminator.parameters(), Options.LearningRateD);
        var realTarget = 1.0 - Options.LabelSmoothing;
        var count = data.Count;
        var batch = (int)Math.Min(Options.BatchSize, count);
        Tensor permutation = randperm(count, generator: shuffle);
        long cursor = 0;
        using var metrics = new StreamWriter(Path.Combine(OutputFolder, "metrics.jsonl"), append: false);

        Log.WriteLine($"Training {Model.ArchitectureName} on {data.Name} ({count} images {data.Channels}×{data.Height}×{data.Width}) for {Options.Steps} steps, batch {batch}, {Options.Optimizer}.");

        // ---- The loop ------------------------------------------------------------------------------------------------
        for (var step = 1; step <= Options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();

            // Next batch of real images (a fresh permutation each epoch).
            if (cursor + batch > count)
            {
                permutation.Dispose();
                permutation = randperm(count, generator: shuffle).MoveToOuterDisposeScope();
                cursor = 0;
            }
            var index = permutation.narrow(0, cursor, batch);
            cursor += batch;
            var real = data.Images.index_select(0, index).to(device);
            var labels = Model.NumClasses > 0 ? data.Labels.index_select(0, index).to(device) : null;

            // Discriminator step: real → 1 (or 1 − smoothing), fake → 0.
            var z = SampleLatents(batch, device);
            var fakeLabels = Model.NumClasses > 0 ? randint(0, Model.NumClasses, [batch], dtype: ScalarType.Int64, device: device) : null;
            var fake = generator.forward(z, fakeLabels);
            var dReal = discriminator.forward(real, labels);
            var dFake = discriminator.forward(fake.detach(), fakeLabels);
            var lossD = F.binary_cross_entropy_with_logits(dReal, full_like(dReal, realTarget))
                      + F.binary_cross_entropy_with_logits(dFake, zeros_like(dFake));
            optD.zero_grad();
            lossD.backward();
            Clip(discriminator);
            optD.step();

            // Generator step (non-saturating): fake → 1.
            var dGen = discriminator.forward(fake, fakeLabels);
            var lossG = F.binary_cross_entropy_with_logits(dGen, ones_like(dGen));
            optG.zero_grad();
            lossG.backward();
            Clip(generator);
            optG.step();
            UpdateEma(ema, generator, Options.EmaDecay);

            // Log, sample, checkpoint.
            if (step % Options.LogEvery == 0 || step == Options.Steps)
            {
                var line = new StepMetrics(step, lossD.item<float>(), lossG.item<float>(),
                    sigmoid(dReal).mean().item<float>(), sigmoid(dFake).mean().item<float>(), stopwatch.Elapsed.TotalSeconds);
                if (!float.IsFinite(line.LossD) || !float.IsFinite(line.LossG))
                    throw new TrainerException($"Training diverged at step {step}: loss D = {line.LossD}, loss G = {line.LossG}. Lower the learning rates or try another seed.");
                metrics.WriteLine(JsonSerializer.Serialize(line));
                metrics.Flush();
                Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {step,6}/{Options.Steps}  loss D {line.LossD:F4}  loss G {line.LossG:F4}  D(x) {line.DReal:F3}  D(G(z)) {line.DFake:F3}  {step / stopwatch.Elapsed.TotalSeconds:F1} steps/s"));
            }
            if (Options.SampleEvery > 0 && step % Options.SampleEvery == 0 && step != Options.Steps)
                SampleGrid.Save(generator, Options.SampleSeed, Options.SampleCount, Path.Combine(OutputFolder, "samples", $"step-{step:D6}.png"));
            if (Options.CheckpointEvery > 0 && step % Options.CheckpointEvery == 0 && step != Options.Steps)
                SaveCheckpoint(generator, ema, discriminator, optG, optD, data, step, stopwatch.Elapsed.TotalSeconds, FinalCheckpointPath);
        }
        permutation.Dispose();

        // ---- Final samples and checkpoint ----------------------------------------------------------------------------
        SampleGrid.Save(generator, Options.SampleSeed, Options.SampleCount, Path.Combine(OutputFolder, "samples.png"));
        SampleGrid.Save(ema, Options.SampleSeed, Options.SampleCount, Path.Combine(OutputFolder, "samples-ema.png"));
        SaveCheckpoint(generator, ema, discriminator, optG, optD, data, Options.Steps, stopwatch.Elapsed.TotalSeconds, FinalCheckpointPath);
        Log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Done in {stopwatch.Elapsed.TotalSeconds:F1} s. Checkpoint: {FinalCheckpointPath}"));
        return FinalCheckpointPath;
    }

    private Tensor SampleLatents(int batch, Device device) =>
        Model.LatentDistribution == Runtime.LatentDistribution.Uniform
            ? rand([batch, Model.LatentDim], device: device).mul_(2).sub_(1)
            : randn([batch, Model.LatentDim], device: device);

    private OptimizerHelper CreateOptimizer(IEnumerable<Parameter> parameters, double lr) => Options.Optimizer switch
    {
        // Keras RMSprop: rho 0.9, epsilon 1e-7.
        OptimizerKind.RmsProp => optim.RMSProp(parameters, lr, alpha: 0.9, eps: 1e-7),
        _ => optim.Adam(parameters, lr, beta1: Options.Beta1, beta2: 0.999),
    };

    private void Clip(nn.Module module)
    {
        if (Options.ClipValue > 0) nn.utils.clip_grad_value_(module.parameters(), Options.ClipValue);
    }

    /// <summary>ema ← decay·ema + (1 − decay)·g for parameters; buffers (BatchNorm statistics) are copied.</summary>
    internal static void UpdateEma(Generator ema, Generator g, double decay)
    {
        using var _ = no_grad();
        foreach (var (pe, pg) in ema.parameters().Zip(g.parameters()))
            pe.mul_(decay).add_(pg, alpha: 1 - decay);
        foreach (var (be, bg) in ema.buffers().Zip(g.buffers()))
            be.copy_(bg);
    }

    private void SaveCheckpoint(Generator g, Generator ema, Discriminator d, OptimizerHelper optG, OptimizerHelper optD, ImageDataset data, long step, double seconds, string path)
    {
        var checkpoint = new Checkpoint
        {
            Info = new Checkpoint.Header
            {
                Model = Model, Training = Options, Step = step, Dataset = data.Name,
                ClassNames = data.ClassNames, Loss = "bce", WallSeconds = seconds,
            },
            Sections = new Dictionary<string, byte[]>
            {
                ["generator"] = Checkpoint.StateOf(g),
                ["generator_ema"] = Checkpoint.StateOf(ema),
                ["discriminator"] = Checkpoint.StateOf(d),
                ["optimizer_g"] = OptimizerState(optG),
                ["optimizer_d"] = OptimizerState(optD),
            },
        };
        checkpoint.Save(path);
    }

    private static byte[] OptimizerState(OptimizerHelper optimizer)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.save_state_dict(writer);
        return stream.ToArray();
    }

    /// <summary>One logged step, as written to metrics.jsonl.</summary>
    public sealed record StepMetrics(int Step, float LossD, float LossG, float DReal, float DFake, double Seconds);
}
