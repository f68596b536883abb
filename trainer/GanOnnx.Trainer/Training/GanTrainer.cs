using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GanOnnx.Trainer.Data;
using GanOnnx.Trainer.Evaluation;
using GanOnnx.Trainer.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;
using F = TorchSharp.torch.nn.functional;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// Trains a GAN with the chosen loss: for each step, one (or --critic-steps) discriminator update on a real and a fake batch,
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

    /// <summary>Model shape. A self-conditioned run fills in <see cref="ModelConfig.LatentClassPrior"/> from its clusters.</summary>
    public ModelConfig Model { get; private set; }
    /// <summary>Training options.</summary>
    public TrainingOptions Options { get; }
    /// <summary>Where logs, samples and checkpoints go.</summary>
    public string OutputFolder { get; }
    /// <summary>Where progress lines are written.</summary>
    public TextWriter Log { get; }

    /// <summary>Scores the generators every <see cref="TrainingOptions.EvalEvery"/> steps when set (see eval.jsonl).</summary>
    public Evaluation.Evaluator? Evaluator { get; init; }

    /// <summary>Where the models train (see <see cref="TrainingDevice.Resolve"/>). Default: the CPU, where a resumed run
    /// matches an uninterrupted one bit for bit; on a GPU it continues from the same state but its random draws differ.</summary>
    public Device Device { get; init; } = CPU;

    /// <summary>Called after every step with the step number (for benchmarks and hosts that watch a run).</summary>
    public Action<int>? StepCompleted { get; init; }

    /// <summary>Path of the final checkpoint.</summary>
    public string FinalCheckpointPath => Path.Combine(OutputFolder, "checkpoint.gockpt");

    /// <summary>Where <see cref="TrainingOptions.KeepCheckpoints"/> keeps the checkpoint of <paramref name="step"/>.</summary>
    public string KeptCheckpointPath(long step) => Path.Combine(OutputFolder, "checkpoints", string.Create(CultureInfo.InvariantCulture, $"step-{step:D6}.gockpt"));

    /// <summary>
    /// Trains on <paramref name="data"/> and returns the path of the final checkpoint. With <paramref name="resumeFrom"/>,
    /// continues the run saved in that checkpoint (weights, EMA, optimizer and random states, data order) so that it ends
    /// where an uninterrupted run with the same seed would have ended (on the CPU).
    /// </summary>
    public string Train(ImageDataset data, string? resumeFrom = null, CancellationToken cancellationToken = default)
    {
        // ---- Setup -------------------------------------------------------------------------------------------------
        if (data.Channels != Model.Channels || data.Height != Model.ImageSize || data.Width != Model.ImageSize)
            throw new TrainerException($"The dataset '{data.Name}' has {data.Channels}×{data.Height}×{data.Width} images but the model makes {Model.Channels}×{Model.ImageSize}×{Model.ImageSize}.");
        if (Model.NumClasses > 0 && data.ClassNames.Count > Model.NumClasses)
            throw new TrainerException($"The dataset '{data.Name}' has {data.ClassNames.Count} classes but the model is built for {Model.NumClasses}.");
        var resume = resumeFrom is null ? null : Checkpoint.Load(resumeFrom);
        if (resume is not null) CheckResumable(resume, resumeFrom!, data);
        using var clusters = Model.Clustered ? Cluster(data, resume, resumeFrom) : null;
        Directory.CreateDirectory(OutputFolder);
        var nativeBefore = NativeConvolutions.Enabled;
        ChooseConvolutions(resume);
        try
        {
            return TrainChosen(data, resume, resumeFrom, clusters, cancellationToken);
        }
        finally
        {
            NativeConvolutions.Enabled = nativeBefore; // the choice is this run's, not the process's
        }
    }

    private string TrainChosen(ImageDataset data, Checkpoint? resume, string? resumeFrom, Tensor? clusters, CancellationToken cancellationToken)
    {
        torch.manual_seed(Options.Seed);
        var device = Device;
        var onCpu = device.type == DeviceType.CPU;
        _emaCalibratedAt = -1;
        var stopwatch = Stopwatch.StartNew();

        // ---- Models and optimizers -----------------------------------------------------------------------------------
        // Built on the CPU from the seed (the same initial weights on every device), then moved before the optimizers
        // see their parameters.
        using var generator = new Generator(Model);
        using var discriminator = new Discriminator(Model);
        using var ema = new Generator(Model);
        ema.load_state_dict(generator.state_dict());
        generator.to(device);
        discriminator.to(device);
        ema.to(device);
        // The whole dataset lives on the training device; batches are gathered there.
        using var imagesOnDevice = onCpu ? null : data.Images.to(device);
        using var labelsOnDevice = onCpu ? null : data.Labels.to(device);
        using var clustersOnDevice = onCpu ? null : clusters?.to(device);
        var images = imagesOnDevice ?? data.Images;
        var imageLabels = labelsOnDevice ?? data.Labels;
        var imageClusters = clustersOnDevice ?? clusters;
        using var optG = CreateOptimizer(generator.parameters(), Options.LearningRateG);
        using var optD = CreateOptimizer(discriminator.parameters(), Options.LearningRateD);
        var batch = (int)Math.Min(Options.BatchSize, data.Count);
        using var batches = new BatchSampler(data.Count, Options.Seed);
        var firstStep = 1;
        var previousSeconds = 0.0;
        if (resume is not null)
        {
            resume.LoadInto(generator, "generator", resumeFrom!);
            resume.LoadInto(ema, "generator_ema", resumeFrom!);
            resume.LoadInto(discriminator, "discriminator", resumeFrom!);
            LoadOptimizer(optG, resume, "optimizer_g", resumeFrom!);
            LoadOptimizer(optD, resume, "optimizer_d", resumeFrom!);
            ApplyOptimizerSettings(optG, Options.LearningRateG);
            ApplyOptimizerSettings(optD, Options.LearningRateD);
            ReportChangedSettings(resume.Info.Training);
            batches.LoadState(resume.Sections["data_order"]);
            TorchRandomState.Restore(resume.Sections["rng_torch"]);
            firstStep = (int)resume.Info.Step + 1;
            previousSeconds = resume.Info.WallSeconds;
            // A run resumed from an earlier checkpoint (after a crash, or a kept one) logs its later steps again: drop them
            // from the logs first, so that every step is there once and in order.
            var dropped = JsonLines.KeepThroughStep(Path.Combine(OutputFolder, "metrics.jsonl"), resume.Info.Step)
                + JsonLines.KeepThroughStep(Path.Combine(OutputFolder, "eval.jsonl"), resume.Info.Step);
            if (dropped > 0)
                Log.WriteLine($"Dropped {dropped} lines logged after step {resume.Info.Step} from metrics.jsonl and eval.jsonl; this run logs those steps again.");
        }
        generator.train();
        discriminator.train();
        ema.eval();
        var realTarget = 1.0 - Options.LabelSmoothing;
        var history = resume is null ? new List<StepMetrics>() : ReadHistory();
        using var metrics = new StreamWriter(Path.Combine(OutputFolder, "metrics.jsonl"), append: resume is not null);
        var progress = new TrainingProgress(Log, Options.Steps, firstStep);
        using var tensorBoard = new TensorBoardWriter(Path.Combine(OutputFolder, "tensorboard"));

        Log.WriteLine($"Training {Model.ArchitectureName} on {data.Name} ({data.Count} images {data.Channels}×{data.Height}×{data.Width}), " +
            $"{GanLoss.NameOf(Options.Loss)} loss, {Options.Optimizer}, batch {batch}{(Options.Augment == Augmentations.None ? "" : $", augment {DiffAugment.NameOf(Options.Augment)}")}, steps {firstStep}–{Options.Steps}{(resume is null ? "" : $" (resumed from {resumeFrom})")}.");

        // ---- The loop ------------------------------------------------------------------------------------------------
        var learningRateScale = 1.0; // the optimizers start (or resume) at the base rates
        for (var step = firstStep; step <= Options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            if (Options.LearningRateScaleAt(step) is var scale && scale != learningRateScale)
            {
                SetLearningRate(optG, Options.LearningRateG * scale);
                SetLearningRate(optD, Options.LearningRateD * scale);
                learningRateScale = scale;
                Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"From step {step}: learning rates × {scale:G6} (G {Options.LearningRateG * scale:G6}, D {Options.LearningRateD * scale:G6})."));
            }

            // Discriminator (critic) steps: real images against fresh fakes.
            Tensor lossD = null!, dReal = null!, dFake = null!;
            for (var c = 0; c < Options.CriticSteps; c++)
            {
                var index = batches.Next(batch).to(device);
                var real = images.index_select(0, index);
                var labels = Model.NumClasses > 0 ? imageLabels.index_select(0, index) : null;
                // What the discriminator is told about the real images: their labels, or their clusters, or nothing.
                var conditions = labels ?? imageClusters?.index_select(0, index);
                var z = Generator.SampleLatents(Model, batch, device);
                Tensor fake;
                using (no_grad()) fake = generator.forward(z, labels);
                dReal = discriminator.forward(DiffAugment.Apply(real, Options.Augment), conditions);
                Tensor? codeLoss;
                (dFake, codeLoss, _) = ScoreFakes(discriminator, fake, z, labels);
                lossD = GanLoss.Discriminator(Options.Loss, dReal, dFake, realTarget);
                if (codeLoss is not null) lossD = lossD + Options.CodeWeight * codeLoss;
                if (Options.Loss == LossKind.WganGp && Options.GradientPenaltyWeight > 0)
                    lossD = lossD + Options.GradientPenaltyWeight * GanLoss.GradientPenalty(discriminator, real, fake, conditions);
                optD.zero_grad();
                lossD.backward();
                Clip(discriminator);
                optD.step();
            }

            // Generator step.
            var fakeLabels = Model.NumClasses > 0 ? randint(0, Model.NumClasses, [batch], dtype: ScalarType.Int64, device: device) : null;
            var zG = Generator.SampleLatents(Model, batch, device);
            var generated = generator.forward(zG, fakeLabels);
            var (scores, codeLossG, codeHits) = ScoreFakes(discriminator, generated, zG, fakeLabels);
            var lossG = GanLoss.Generator(Options.Loss, scores);
            if (codeLossG is not null) lossG = lossG + Options.CodeWeight * codeLossG;
            optG.zero_grad();
            lossG.backward();
            Clip(generator);
            optG.step();
            UpdateEma(ema, generator, EmaDecayAt(Options.EmaDecay, Options.EmaRampup, step));
            _emaCalibratedAt = -1;

            StepCompleted?.Invoke(step);

            // Log, sample, checkpoint.
            var seconds = previousSeconds + stopwatch.Elapsed.TotalSeconds;
            if (step % Options.LogEvery == 0 || step == Options.Steps)
            {
                var probabilities = Options.Loss == LossKind.Bce;
                var line = new StepMetrics(step, lossD.item<float>(), lossG.item<float>(),
                    (probabilities ? sigmoid(dReal) : dReal).mean().item<float>(), (probabilities ? sigmoid(dFake) : dFake).mean().item<float>(), seconds)
                {
                    CodeAccuracy = codeHits?.to_type(ScalarType.Float32).mean().item<float>(),
                };
                if (!float.IsFinite(line.LossD) || !float.IsFinite(line.LossG))
                    throw new TrainerException($"Training diverged at step {step}: loss D = {line.LossD}, loss G = {line.LossG}. Lower the learning rates or try another seed.");
                metrics.WriteLine(JsonSerializer.Serialize(line));
                metrics.Flush();
                history.Add(line);
                tensorBoard.Scalars(step, [new("loss/discriminator", line.LossD), new("loss/generator", line.LossG), new("D/real", line.DReal), new("D/fake", line.DFake),
                    .. line.CodeAccuracy is { } accuracy ? [new KeyValuePair<string, double>("code/accuracy", accuracy)] : Array.Empty<KeyValuePair<string, double>>()]);
                progress.Report(line);
            }
            if (Evaluator is not null && Options.EvalEvery > 0 && (step % Options.EvalEvery == 0 || step == Options.Steps))
                Evaluate(generator, ema, step, tensorBoard);
            if (Options.SampleEvery > 0 && step % Options.SampleEvery == 0 && step != Options.Steps)
                SampleGrid.Save(generator, Options.SampleSeed, Options.SampleCount, Path.Combine(OutputFolder, "samples", $"step-{step:D6}.png"));
            if (Options.CheckpointEvery > 0 && step % Options.CheckpointEvery == 0 && step != Options.Steps)
                SaveCheckpoint(generator, ema, discriminator, optG, optD, batches, data, clusters, step, seconds, FinalCheckpointPath);
        }

        // ---- Final samples and checkpoint ----------------------------------------------------------------------------
        var total = previousSeconds + stopwatch.Elapsed.TotalSeconds;
        MetricsPlot.Save(history, Path.Combine(OutputFolder, "losses.png"));
        SampleGrid.Save(generator, Options.SampleSeed, Options.SampleCount, Path.Combine(OutputFolder, "samples.png"));
        SaveCheckpoint(generator, ema, discriminator, optG, optD, batches, data, clusters, Options.Steps, total, FinalCheckpointPath);
        SampleGrid.Save(ema, Options.SampleSeed, Options.SampleCount, Path.Combine(OutputFolder, "samples-ema.png"));
        Log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Done in {total:F1} s. Checkpoint: {FinalCheckpointPath}"));
        ReportBestEvaluation();
        return FinalCheckpointPath;
    }

    /// <summary>
    /// The discriminator's scores of generated <paramref name="images"/> (made from latents <paramref name="z"/> and
    /// <paramref name="labels"/>); a self-conditioned discriminator is told the cluster each latent drew. For a model with
    /// an InfoGAN code also the cross-entropy of its code head against the categories the latents selected, and which it
    /// got right; null otherwise.
    /// </summary>
    private (Tensor Scores, Tensor? CodeLoss, Tensor? Hits) ScoreFakes(Discriminator discriminator, Tensor images, Tensor z, Tensor? labels)
    {
        images = DiffAugment.Apply(images, Options.Augment);
        if (Model.LatentClasses == 0) return (discriminator.forward(images, labels), null, null);
        var code = Generator.LatentCode(Model, z);
        if (Model.Clustered) return (discriminator.forward(images, code), null, null);
        var (scores, codeLogits) = discriminator.ForwardWithCode(images);
        return (scores, F.cross_entropy(codeLogits, code), codeLogits.argmax(1).eq(code));
    }

    private long _emaCalibratedAt = -1;

    /// <summary>Gives the EMA BatchNorm statistics of its own, once per step however many uses it has then.</summary>
    private void CalibrateEma(Generator ema, long step)
    {
        if (_emaCalibratedAt == step) return;
        BatchNormCalibration.Recalibrate(ema, Options.Seed);
        _emaCalibratedAt = step;
    }

    private List<StepMetrics> ReadHistory() => ReadMetrics(Path.Combine(OutputFolder, "metrics.jsonl"));

    /// <summary>The logged steps of a metrics.jsonl file (empty when it does not exist); a line torn by a crash is skipped.</summary>
    public static List<StepMetrics> ReadMetrics(string path)
    {
        return File.Exists(path) ? [.. JsonLines.Read<StepMetrics>(path)] : [];
    }

    private void Evaluate(Generator generator, Generator ema, int step, TensorBoardWriter tensorBoard)
    {
        var raw = Evaluator!.Score(generator, Options.EvalCount);
        CalibrateEma(ema, step);
        var averaged = Evaluator.Score(ema, Options.EvalCount);
        tensorBoard.Scalars(step, raw.ToMetadata().Select(kv => new KeyValuePair<string, double>("eval/" + kv.Key, kv.Value))
            .Concat(averaged.ToMetadata().Select(kv => new KeyValuePair<string, double>("eval_ema/" + kv.Key, kv.Value))));
        var line = JsonSerializer.Serialize(new { step, generator = raw, ema = averaged });
        File.AppendAllText(Path.Combine(OutputFolder, "eval.jsonl"), line + Environment.NewLine);
        var accuracy = raw.ClassAccuracy is { } a
            ? string.Create(CultureInfo.InvariantCulture, $", class accuracy {a:P1} (EMA {averaged.ClassAccuracy:P1})")
            : "";
        Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"eval at step {step}: Fréchet {raw.FrechetDistance:F2} (EMA {averaged.FrechetDistance:F2}, floor {raw.FrechetFloor:F2}), class entropy {raw.ClassEntropy:F3} (EMA {averaged.ClassEntropy:F3}), confidence {raw.MeanConfidence:F3}{accuracy}"));
    }

    /// <summary>
    /// The k-means cluster of every training image, int64 [N], for a self-conditioned run: computed afresh (and the
    /// clusters' shares become the model's latent class prior), or read back from the checkpoint a run resumes.
    /// </summary>
    private Tensor Cluster(ImageDataset data, Checkpoint? resume, string? resumeFrom)
    {
        if (resume is not null)
        {
            if (!resume.Sections.TryGetValue("clusters", out var bytes) || bytes.Length != data.Count * sizeof(long))
                throw new TrainerException($"Checkpoint '{resumeFrom}' has no clusters for the {data.Count} images of '{data.Name}', so the self-conditioned run cannot be resumed.");
            Model = Model with { LatentClassPrior = resume.Info.Model.LatentClassPrior };
            return tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes).ToArray());
        }
        var watch = Stopwatch.StartNew();
        var (assignments, shares) = ImageClusters.Assign(data.Images, Model.LatentClasses, Options.Seed);
        Model = Model with { LatentClassPrior = shares };
        Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Clustered {data.Count} images into {shares.Length} groups in {watch.Elapsed.TotalSeconds:F1} s (k-means; shares {shares.Min():P1} to {shares.Max():P1})."));
        return assignments;
    }

    private void CheckResumable(Checkpoint checkpoint, string path, ImageDataset data)
    {
        if (checkpoint.Info.Model.WithoutPrior() != Model.WithoutPrior())
        {
            var differences = Model.DifferencesFrom(checkpoint.Info.Model);
            throw new TrainerException($"Checkpoint '{path}' holds another model than this run builds: " +
                $"{(differences.Count == 0 ? "their settings differ" : string.Join("; ", differences))}; resume with the same architecture, sizes, classes and discriminator settings.");
        }
        if (checkpoint.Info.Training.Loss != Options.Loss)
            throw new TrainerException($"Checkpoint '{path}' was trained with the {GanLoss.NameOf(checkpoint.Info.Training.Loss)} loss, not {GanLoss.NameOf(Options.Loss)}.");
        if (checkpoint.Info.Training.Seed != Options.Seed)
            throw new TrainerException($"Checkpoint '{path}' was trained with seed {checkpoint.Info.Training.Seed}, not {Options.Seed}; an exact resume needs the same seed.");
        if (checkpoint.Info.Dataset != data.Name)
            throw new TrainerException($"Checkpoint '{path}' was trained on '{checkpoint.Info.Dataset}', not '{data.Name}'.");
        if (checkpoint.Info.Step >= Options.Steps)
            throw new TrainerException($"Checkpoint '{path}' is at step {checkpoint.Info.Step}; ask for more --steps than that to continue it.");
        foreach (var section in new[] { "generator", "generator_ema", "discriminator", "optimizer_g", "optimizer_d", "data_order", "rng_torch" })
            if (!checkpoint.Sections.ContainsKey(section))
                throw new TrainerException($"Checkpoint '{path}' has no '{section}' section, so the run cannot be resumed exactly.");
    }

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
                adam.beta1 = Options.Beta1;
                adam.beta2 = Options.Beta2;
            }
        }
    }

    private static void SetLearningRate(OptimizerHelper optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }

    /// <summary>Says which optimizer settings of a resumed run differ from the checkpoint's (the resume is then not exact).</summary>
    /// <summary>
    /// Sets <see cref="NativeConvolutions.Enabled"/> for this run from <see cref="TrainingOptions.Convolutions"/>: on the CPU,
    /// Auto runs <see cref="ConvolutionCheck"/> on this model's layers; the log says which path the run takes and why.
    /// </summary>
    private void ChooseConvolutions(Checkpoint? resume)
    {
        var onCpu = Device.type == DeviceType.CPU;
        string why;
        switch (Options.Convolutions)
        {
            case ConvolutionKernels.Native:
                NativeConvolutions.Enabled = true;
                why = "forced with --convolutions native";
                break;
            case ConvolutionKernels.Exact:
                NativeConvolutions.Enabled = false;
                why = "forced with --convolutions exact";
                break;
            default:
                if (!onCpu)
                {
                    NativeConvolutions.Enabled = true;
                    why = "on the GPU";
                    break;
                }
                if (resume?.Info.Extra.GetValueOrDefault(ConvolutionsKey) is "exact" || (resume is not null && !resume.Info.Extra.ContainsKey(ConvolutionsKey)))
                {
                    NativeConvolutions.Enabled = false; // the run so far took the exact path: stay on it, so the resume is exact
                    why = "as the checkpoint's run";
                    break;
                }
                var started = Stopwatch.GetTimestamp();
                var check = ConvolutionCheck.Run(Model, Options.BatchSize, secondDerivatives: Options.Loss == LossKind.WganGp);
                NativeConvolutions.Enabled = check.Exact;
                why = string.Create(CultureInfo.InvariantCulture,
                    $"self-check {(check.Exact ? "passed" : "FAILED")} in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms: {check}");
                break;
        }
        ConvolutionsUsed = NativeConvolutions.Enabled ? "native" : "exact";
        Log.WriteLine($"Convolutions: {(NativeConvolutions.Enabled ? "libtorch's native kernels" : "the exact path (forward convolutions only)")} ({why}).");
        if (resume?.Info.Extra.GetValueOrDefault(ConvolutionsKey) is { } before && before != ConvolutionsUsed)
            Log.WriteLine($"The checkpoint was trained with the {before} convolutions; this run continues with the {ConvolutionsUsed} ones, so it will not end bit for bit where an uninterrupted run would.");
    }

    /// <summary>The checkpoint header's key for the convolution path a run took.</summary>
    public const string ConvolutionsKey = "convolutions";

    /// <summary>"native" or "exact": the convolution path of the last <see cref="Train"/> call.</summary>
    public string? ConvolutionsUsed { get; private set; }

    private void ReportChangedSettings(TrainingOptions saved)
    {
        var changes = new List<string>();
        void Compare(string option, double before, double now)
        {
            if (before != now) changes.Add(string.Create(CultureInfo.InvariantCulture, $"{option} {before:G6} → {now:G6}"));
        }
        Compare("--lr-g", saved.LearningRateG, Options.LearningRateG);
        Compare("--lr-d", saved.LearningRateD, Options.LearningRateD);
        Compare("--lr-decay-at", saved.LearningRateDecayAt, Options.LearningRateDecayAt);
        if (Options.LearningRateDecayAt > 0) Compare("--lr-decay", saved.LearningRateDecay, Options.LearningRateDecay);
        if (Options.Optimizer == OptimizerKind.Adam)
        {
            Compare("--beta1", saved.Beta1, Options.Beta1);
            Compare("--beta2", saved.Beta2, Options.Beta2);
        }
        if (changes.Count > 0) Log.WriteLine($"Resuming with changed optimizer settings: {string.Join(", ", changes)}.");
    }

    private OptimizerHelper CreateOptimizer(IEnumerable<Parameter> parameters, double lr) => Options.Optimizer switch
    {
        // Keras RMSprop: rho 0.9, epsilon 1e-7.
        OptimizerKind.RmsProp => optim.RMSProp(parameters, lr, alpha: 0.9, eps: 1e-7),
        _ => optim.Adam(parameters, lr, beta1: Options.Beta1, beta2: Options.Beta2),
    };

    private void Clip(nn.Module module)
    {
        if (Options.ClipValue > 0) nn.utils.clip_grad_value_(module.parameters(), Options.ClipValue);
    }

    /// <summary>
    /// The EMA decay used after step <paramref name="step"/> (1-based): <paramref name="decay"/>, or with a ramp-up
    /// r &gt; 0 the decay whose half-life is min(half-life of <paramref name="decay"/>, r·step) steps, as StyleGAN2-ADA does.
    /// </summary>
    internal static double EmaDecayAt(double decay, double rampup, long step)
    {
        if (rampup <= 0 || decay <= 0) return decay;
        var halfLife = Math.Log(0.5) / Math.Log(decay);
        var rampedHalfLife = rampup * step;
        return rampedHalfLife >= halfLife ? decay : Math.Pow(0.5, 1 / rampedHalfLife);
    }

    /// <summary>
    /// ema ← decay·ema + (1 − decay)·g for parameters. The EMA's buffers (BatchNorm statistics) are not averaged: they are
    /// computed from its own activations (<see cref="BatchNormCalibration"/>) whenever it is scored, sampled or saved.
    /// </summary>
    internal static void UpdateEma(Generator ema, Generator g, double decay)
    {
        using var _ = no_grad();
        foreach (var (pe, pg) in ema.parameters().Zip(g.parameters()))
            pe.mul_(decay).add_(pg, alpha: 1 - decay);
    }

    private void SaveCheckpoint(Generator g, Generator ema, Discriminator d, OptimizerHelper optG, OptimizerHelper optD, BatchSampler batches,
        ImageDataset data, Tensor? clusters, long step, double seconds, string path)
    {
        // The EMA is saved with BatchNorm statistics of its own.
        CalibrateEma(ema, step);
        var sections = new Dictionary<string, byte[]>
        {
            ["generator"] = Checkpoint.StateOf(g),
            ["generator_ema"] = Checkpoint.StateOf(ema),
            ["discriminator"] = Checkpoint.StateOf(d),
            ["optimizer_g"] = OptimizerState(optG),
            ["optimizer_d"] = OptimizerState(optD),
            ["data_order"] = batches.SaveState(),
            ["rng_torch"] = TorchRandomState.Save(),
        };
        if (clusters is not null) sections["clusters"] = System.Runtime.InteropServices.MemoryMarshal.AsBytes(clusters.data<long>().ToArray().AsSpan()).ToArray();
        var checkpoint = new Checkpoint
        {
            Info = new Checkpoint.Header
            {
                Model = Model, Training = Options, Step = step, Dataset = data.Name,
                ClassNames = data.ClassNames, Loss = GanLoss.NameOf(Options.Loss), WallSeconds = seconds,
                Extra = new Dictionary<string, string> { [ConvolutionsKey] = ConvolutionsUsed ?? "exact" },
            },
            Sections = sections,
        };
        checkpoint.Save(path);
        if (Options.KeepCheckpoints) checkpoint.Save(KeptCheckpointPath(step));
    }

    /// <summary>
    /// After a run that evaluated itself, names the evaluation with the lowest Fréchet distance (raw or EMA, over the
    /// whole of eval.jsonl, resumed parts included) and, when it was kept, that step's checkpoint.
    /// </summary>
    private void ReportBestEvaluation()
    {
        var path = Path.Combine(OutputFolder, "eval.jsonl");
        if (!File.Exists(path)) return;
        var best = EvalLog.Best(path);
        if (best is null) return;
        var kept = KeptCheckpointPath(best.Step);
        var where = best.Step == Options.Steps ? $"; its checkpoint: {FinalCheckpointPath}"
            : File.Exists(kept) ? $"; its checkpoint: {kept}"
            : "; its checkpoint was not kept (--keep-checkpoints keeps every one)";
        Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Best evaluation: step {best.Step}, {(best.Ema ? "EMA" : "raw")} weights, Fréchet {best.Scores.FrechetDistance:F2} ({best.Scores.FrechetRatio:F2}× the floor), class entropy {best.Scores.ClassEntropy:F3}{where}."));
    }

    private static byte[] OptimizerState(OptimizerHelper optimizer)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.save_state_dict(writer);
        return stream.ToArray();
    }

    /// <summary>One logged step, as written to metrics.jsonl.</summary>
    public sealed record StepMetrics(int Step, float LossD, float LossG, float DReal, float DFake, double Seconds)
    {
        /// <summary>Models with an InfoGAN code: the share of the generator step's images whose category the
        /// discriminator's code head named correctly (1/K is chance).</summary>
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public float? CodeAccuracy { get; init; }
    }
}
