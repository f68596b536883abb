using GanOnnx.Trainer.Data;
using GanOnnx.Trainer.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// The state of a training run: the generator, its weight average (EMA), the discriminator, their optimizers, the order
/// the data is drawn in and the data on the training device. It restores itself from a <see cref="Checkpoint"/> and saves
/// into one, so that a resumed run continues exactly where the saved one stopped.
/// </summary>
internal sealed class TrainingRun : IDisposable
{
    /// <summary>Sections a checkpoint needs for an exact resume.</summary>
    public static readonly string[] ResumeSections = ["generator", "generator_ema", "discriminator", "optimizer_g", "optimizer_d", "data_order", "rng_torch"];

    private readonly TrainingOptions _options;
    private readonly Tensor? _imagesOnDevice, _labelsOnDevice, _clustersOnDevice;
    private readonly Tensor? _clusters;
    private long _emaCalibratedAt = -1;

    /// <summary>
    /// Builds the models on the CPU from the current torch seed (the same initial weights on every device), moves them
    /// and the data to <paramref name="device"/>, then creates the optimizers.
    /// </summary>
    public TrainingRun(ModelConfig model, TrainingOptions options, Device device, ImageDataset data, Tensor? clusters)
    {
        _options = options;
        _clusters = clusters;
        Device = device;
        try
        {
            Generator = new Generator(model);
            Discriminator = new Discriminator(model);
            Ema = new Generator(model);
            Ema.load_state_dict(Generator.state_dict());
            Generator.to(device);
            Discriminator.to(device);
            Ema.to(device);
            // The whole dataset lives on the training device; batches are gathered there.
            var onCpu = device.type == DeviceType.CPU;
            _imagesOnDevice = onCpu ? null : data.Images.to(device);
            _labelsOnDevice = onCpu ? null : data.Labels.to(device);
            _clustersOnDevice = onCpu ? null : clusters?.to(device);
            Images = _imagesOnDevice ?? data.Images;
            Labels = _labelsOnDevice ?? data.Labels;
            Clusters = _clustersOnDevice ?? clusters;
            OptimizerG = CreateOptimizer(Generator.parameters(), options.LearningRateG);
            OptimizerD = CreateOptimizer(Discriminator.parameters(), options.LearningRateD);
            BatchSize = (int)Math.Min(options.BatchSize, data.Count);
            Batches = new BatchSampler(data.Count, options.Seed);
            Generator.train();
            Discriminator.train();
            Ema.eval();
        }
        catch
        {
            Dispose(); // what was made before the failure (a device out of memory, say)
            throw;
        }
    }

    public Device Device { get; }
    public Generator Generator { get; }
    public Generator Ema { get; }
    public Discriminator Discriminator { get; }
    public OptimizerHelper OptimizerG { get; }
    public OptimizerHelper OptimizerD { get; }
    public BatchSampler Batches { get; }
    /// <summary>Images per step (the option, or the whole dataset when it is smaller).</summary>
    public int BatchSize { get; }
    /// <summary>The training images, labels and (self-conditioned runs) clusters, on <see cref="Device"/>.</summary>
    public Tensor Images { get; }
    public Tensor Labels { get; }
    public Tensor? Clusters { get; }
    /// <summary>The learning rates' factor now in force (<see cref="TrainingOptions.LearningRateScaleAt"/>).</summary>
    public double LearningRateScale { get; private set; } = 1.0;

    /// <summary>
    /// Loads the weights, optimizer states, data order and torch's random state of <paramref name="checkpoint"/> (saved by
    /// <see cref="Save"/>; checked by the caller). This run's optimizer settings win over the saved ones.
    /// <para>A run that adds minibatch standard deviation (<see cref="ModelConfig.MinibatchStdGroup"/>) to a checkpoint
    /// without it gets the saved discriminator with zero weights for the new input of its last layer, so it scores as
    /// before, and a fresh optimizer for it (the saved one's moments do not fit the grown layer); returns true then.</para>
    /// </summary>
    public bool Restore(Checkpoint checkpoint, string path, ModelConfig model)
    {
        checkpoint.LoadInto(Generator, "generator", path);
        checkpoint.LoadInto(Ema, "generator_ema", path);
        var addsMinibatchStd = checkpoint.Info.Model.MinibatchStdGroup == 0 && model.MinibatchStdGroup > 0;
        if (addsMinibatchStd) LoadGrownDiscriminator(checkpoint, path);
        else checkpoint.LoadInto(Discriminator, "discriminator", path);
        LoadOptimizer(OptimizerG, checkpoint, "optimizer_g", path);
        if (!addsMinibatchStd) LoadOptimizer(OptimizerD, checkpoint, "optimizer_d", path);
        ApplyOptimizerSettings(OptimizerG, _options.LearningRateG);
        ApplyOptimizerSettings(OptimizerD, _options.LearningRateD);
        Batches.LoadState(checkpoint.Sections["data_order"]);
        TorchRandomState.Restore(checkpoint.Sections["rng_torch"]);
        return addsMinibatchStd;
    }

    /// <summary>Loads the checkpoint's discriminator, which has no minibatch standard deviation, into this run's, which
    /// has: every weight as saved, the last layer's with zeros for the extra input (the last channel, so the last
    /// columns of its flattened input).</summary>
    private void LoadGrownDiscriminator(Checkpoint checkpoint, string path)
    {
        using var saved = new Discriminator(checkpoint.Info.Model);
        checkpoint.LoadInto(saved, "discriminator", path);
        var from = saved.state_dict();
        foreach (var (name, target) in Discriminator.state_dict())
        {
            var source = from[name];
            WarmStart.CopyInputs(source, target, () => new TrainerException($"Checkpoint '{path}': the discriminator's '{name}' is {string.Join("×", source.shape)}, which does not grow into this run's {string.Join("×", target.shape)}."));
        }
    }

    /// <summary>
    /// Sets both learning rates for <paramref name="step"/>; returns the new factor when it changed, null otherwise.
    /// </summary>
    public double? ScaleLearningRates(int step)
    {
        var scale = _options.LearningRateScaleAt(step);
        if (scale == LearningRateScale) return null;
        SetLearningRate(OptimizerG, _options.LearningRateG * scale);
        SetLearningRate(OptimizerD, _options.LearningRateD * scale);
        LearningRateScale = scale;
        return scale;
    }

    /// <summary>One optimizer step of <paramref name="optimizer"/> on <paramref name="loss"/> for <paramref name="module"/>'s parameters, clipped as the options say.</summary>
    public void Step(OptimizerHelper optimizer, nn.Module module, Tensor loss)
    {
        optimizer.zero_grad();
        loss.backward();
        if (_options.ClipValue > 0) nn.utils.clip_grad_value_(module.parameters(), _options.ClipValue);
        optimizer.step();
    }

    /// <summary>Moves the EMA toward the generator with the decay of <paramref name="step"/>.</summary>
    public void UpdateEma(int step)
    {
        GanTrainer.UpdateEma(Ema, Generator, GanTrainer.EmaDecayAt(_options.EmaDecay, _options.EmaRampup, step));
        _emaCalibratedAt = -1;
    }

    /// <summary>
    /// Gives the EMA BatchNorm statistics of its own, once per step however many uses it has then, from the class mix the
    /// generator's steps ask for (uniform, or the data's with <see cref="TrainingOptions.GeneratorClassesFromData"/>).
    /// </summary>
    public void CalibrateEma(long step)
    {
        if (_emaCalibratedAt == step) return;
        BatchNormCalibration.Recalibrate(Ema, _options.Seed, _options.GeneratorClassesFromData ? Labels : null);
        _emaCalibratedAt = step;
    }

    /// <summary>Saves everything <see cref="Restore"/> needs (the EMA with statistics of its own) to <paramref name="paths"/>.</summary>
    public void Save(Checkpoint.Header header, params string[] paths)
    {
        CalibrateEma(header.Step);
        var sections = new Dictionary<string, byte[]>
        {
            ["generator"] = Checkpoint.StateOf(Generator),
            ["generator_ema"] = Checkpoint.StateOf(Ema),
            ["discriminator"] = Checkpoint.StateOf(Discriminator),
            ["optimizer_g"] = OptimizerState(OptimizerG),
            ["optimizer_d"] = OptimizerState(OptimizerD),
            ["data_order"] = Batches.SaveState(),
            ["rng_torch"] = TorchRandomState.Save(),
        };
        if (_clusters is not null) sections["clusters"] = System.Runtime.InteropServices.MemoryMarshal.AsBytes(_clusters.data<long>().ToArray().AsSpan()).ToArray();
        var checkpoint = new Checkpoint { Info = header, Sections = sections };
        foreach (var path in paths) checkpoint.Save(path);
    }

    public void Dispose()
    {
        // Null-tolerant: the constructor calls this when it fails part of the way.
        Batches?.Dispose();
        OptimizerD?.Dispose();
        OptimizerG?.Dispose();
        _clustersOnDevice?.Dispose();
        _labelsOnDevice?.Dispose();
        _imagesOnDevice?.Dispose();
        Ema?.Dispose();
        Discriminator?.Dispose();
        Generator?.Dispose();
    }

    private OptimizerHelper CreateOptimizer(IEnumerable<Parameter> parameters, double lr) => _options.Optimizer switch
    {
        // Keras RMSprop: rho 0.9, epsilon 1e-7.
        OptimizerKind.RmsProp => new Optimizers.RMSProp(parameters, lr, alpha: 0.9, eps: 1e-7),
        _ => new Optimizers.Adam(parameters, lr, beta1: _options.Beta1, beta2: _options.Beta2),
    };

    private static void LoadOptimizer(OptimizerHelper optimizer, Checkpoint checkpoint, string section, string path)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(checkpoint.Sections[section]));
            optimizer.load_state_dict(reader);
        }
        catch (Exception ex) when (ex is not TrainerException)
        {
            throw new TrainerException($"Checkpoint '{path}': the '{section}' state does not fit this run's optimizer ({ex.Message}).", ex);
        }
    }

    /// <summary>
    /// A saved optimizer state carries the learning rate and betas it was created with; loading it would silently keep
    /// them. This run's options win instead, so that a run can be resumed with, say, a lower learning rate.
    /// </summary>
    private void ApplyOptimizerSettings(OptimizerHelper optimizer, double lr)
    {
        SetLearningRate(optimizer, lr);
        foreach (var group in optimizer.ParamGroups)
        {
            if (group is ParamGroup { Options: Adam.Options adam })
            {
                adam.beta1 = _options.Beta1;
                adam.beta2 = _options.Beta2;
            }
        }
    }

    private static void SetLearningRate(OptimizerHelper optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }

    private static byte[] OptimizerState(OptimizerHelper optimizer)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.save_state_dict(writer);
        return stream.ToArray();
    }
}
