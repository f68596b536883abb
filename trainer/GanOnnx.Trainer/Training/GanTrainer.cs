using System.Diagnostics;
using System.Globalization;
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
/// <remarks>
/// TorchSharp 0.107 can fail a native call ("Expected false to be true … Scalar.h") when a garbage collection started by
/// another thread finalizes a Scalar the call is reading. The optimizers and the EMA update hold theirs; elsewhere in
/// TorchSharp the window stays open, so a host that trains next to threads allocating heavily is more exposed than the
/// <c>ganonnx-train</c> process (docs/training.md, "TorchSharp's implicit Scalars and the garbage collector").
/// </remarks>
public sealed class GanTrainer
{
    /// <summary>Creates a trainer; nothing runs until <see cref="Train"/>.</summary>
    public GanTrainer(ModelConfig model, TrainingOptions options, string outputFolder, TextWriter? log = null)
    {
        model.Validate();
        options.Validate();
        if (options.GeneratorClassesFromData && model.NumClasses == 0)
            throw new TrainerException("TrainingOptions.GeneratorClassesFromData is for conditional models (ModelConfig.NumClasses); this one has no classes to draw.");
        if (options.ClusterFeatures is not null && !model.Clustered)
            throw new TrainerException("TrainingOptions.ClusterFeatures chooses what a self-conditioned model's clusters are computed on; this model is not self-conditioned (ModelConfig.Clustered).");
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
        if (data.Channels != Model.Channels || data.Height != Model.ImageSize || data.Width != Model.ImageSize)
            throw new TrainerException($"The dataset '{data.Name}' has {data.Channels}×{data.Height}×{data.Width} images but the model makes {Model.Channels}×{Model.ImageSize}×{Model.ImageSize}.");
        if (Model.NumClasses > 0 && data.ClassNames.Count > Model.NumClasses)
            throw new TrainerException($"The dataset '{data.Name}' has {data.ClassNames.Count} classes but the model is built for {Model.NumClasses}.");
        if (File.Exists(OutputFolder)) throw new TrainerException($"The output folder '{OutputFolder}' is a file; give a folder (it is created if missing).");
        if (resumeFrom is null) RefuseToOverwriteARun();
        var resume = resumeFrom is null ? null : Checkpoint.Load(resumeFrom);
        if (resume is not null) CheckResumable(resume, resumeFrom!, data);
        // A warm start (TrainingOptions.InitFrom) is read once, at the start; a resumed run has its weights already.
        var initial = resume is null && Options.InitFrom is { } initFrom ? Checkpoint.Load(initFrom) : null;
        if (initial is not null) WarmStart.Check(initial, Options.InitFrom!, Model);
        else if (resume is not null && Options.InitFrom is not null)
            Log.WriteLine("TrainingOptions.InitFrom is not read: a resumed run takes its weights from the checkpoint it resumes.");
        using var clusters = Model.Clustered ? Cluster(data, resume, resumeFrom) : null;
        Directory.CreateDirectory(OutputFolder);
        var nativeBefore = NativeConvolutions.Enabled;
        Diagnostics.Nnpack.Disable();
        ChooseConvolutions(resume);
        try
        {
            torch.manual_seed(Options.Seed);
            using var run = new TrainingRun(Model, Options, Device, data, clusters);
            if (resume is not null)
            {
                if (run.Restore(resume, resumeFrom!, Model))
                    Log.WriteLine($"Adding minibatch standard deviation (groups of {Model.MinibatchStdGroup}) to the saved discriminator: its last layer's weights for the new input start at zero, and its optimizer starts afresh.");
                ReportChangedSettings(resume.Info.Training, resume.Info.Model);
            }
            else if (initial is not null)
            {
                Log.WriteLine(WarmStart.Apply(run, initial, Options.InitFrom!, data, run.Clusters ?? (Model.NumClasses > 0 ? run.Labels : null)));
            }
            return Loop(run, data, resume, resumeFrom, cancellationToken);
        }
        finally
        {
            NativeConvolutions.Enabled = nativeBefore; // the choice is this run's, not the process's
        }
    }

    /// <summary>
    /// A new run into a folder that holds another run's checkpoints would overwrite them (hours of training, lost to a
    /// forgotten --resume): refused, naming the checkpoint to resume from.
    /// </summary>
    private void RefuseToOverwriteARun()
    {
        var kept = Path.Combine(OutputFolder, "checkpoints");
        var latest = File.Exists(FinalCheckpointPath) ? FinalCheckpointPath
            : Directory.Exists(kept) ? Directory.EnumerateFiles(kept, "*.gockpt").Order(StringComparer.Ordinal).LastOrDefault()
            : null;
        if (latest is null) return;
        throw new TrainerException($"'{OutputFolder}' already holds a training run ('{latest}'); a new run would overwrite it. " +
            $"Continue it with --resume '{latest}', train into another folder, or delete the folder to start over.");
    }

    /// <summary>The training loop: (1) update D, (2) update G, then log, evaluate, sample and checkpoint when due.</summary>
    private string Loop(TrainingRun run, ImageDataset data, Checkpoint? resume, string? resumeFrom, CancellationToken cancellationToken)
    {
        var firstStep = resume is null ? 1 : (int)resume.Info.Step + 1;
        var previousSeconds = resume?.Info.WallSeconds ?? 0.0;
        var stopwatch = Stopwatch.StartNew();
        using var log = new RunLog(OutputFolder, Options, Log, firstStep, resume?.Info.Step, Model.AuxiliaryClassifier ? "class" : "code", DivergenceHint);
        Log.WriteLine($"Training {Model.ArchitectureName}{(Model.GeneratorDepth > 0 ? $" with {Model.GeneratorDepth} extra generator layer(s) per resolution" : "")} on {data.Name} ({data.Count} images {data.Channels}×{data.Height}×{data.Width}), " +
            $"{GanLoss.NameOf(Options.Loss)} loss{Model.DiscriminatorNotes}, {Options.Optimizer}, batch {run.BatchSize}{(Options.Augment == Augmentations.None ? "" : $", augment {DiffAugment.NameOf(Options.Augment)}")}{(Options.GeneratorClassesFromData ? ", generator classes in the data's proportions" : "")}{(Options.R1Weight > 0 ? string.Create(CultureInfo.InvariantCulture, $", R1 γ {Options.R1Weight:G6} every {Options.R1Every} step(s)") : "")}{(Options.ConsistencyWeight > 0 ? string.Create(CultureInfo.InvariantCulture, $", consistency λ {Options.ConsistencyWeight:G6}") : "")}{(Options.TopK < 1 ? string.Create(CultureInfo.InvariantCulture, $", top-k generator updates down to {Options.TopK:G6} of the batch") : "")}, steps {firstStep}–{Options.Steps}{(resume is null ? "" : $" (resumed from {resumeFrom})")}.");

        for (var step = firstStep; step <= Options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            if (run.ScaleLearningRates(step) is { } scale)
                Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"From step {step}: learning rates × {scale:G6} (G {Options.LearningRateG * scale:G6}, D {Options.LearningRateD * scale:G6})."));

            // (1) Update D (the critic, CriticSteps times): real images against fresh fakes.
            var d = UpdateDiscriminator(run, Options.R1Due(step));
            for (var c = 1; c < Options.CriticSteps; c++) d = UpdateDiscriminator(run, r1: false);

            // (2) Update G: fakes the discriminator should take for real; then the weight average follows.
            var (lossG, codeHits) = UpdateGenerator(run, Options.TopKAt(step, run.BatchSize, data.Count));
            run.UpdateEma(step);
            StepCompleted?.Invoke(step);

            var seconds = previousSeconds + stopwatch.Elapsed.TotalSeconds;
            if (log.Due(step)) log.Step(step, d.Loss, d.Real, d.Fake, lossG, codeHits, seconds);
            if (Evaluator is not null && Options.EvalEvery > 0 && (step % Options.EvalEvery == 0 || step == Options.Steps))
            {
                var raw = Evaluator.Score(run.Generator, Options.EvalCount);
                run.CalibrateEma(step);
                log.Evaluation(step, raw, Evaluator.Score(run.Ema, Options.EvalCount));
            }
            if (Options.SampleEvery > 0 && step % Options.SampleEvery == 0 && step != Options.Steps)
                SampleGrid.Save(run.Generator, Options.SampleSeed, Options.SampleCount, Path.Combine(OutputFolder, "samples", $"step-{step:D6}.png"));
            if (Options.CheckpointEvery > 0 && step % Options.CheckpointEvery == 0 && step != Options.Steps)
                SaveCheckpoint(run, data, step, seconds);
        }

        var total = previousSeconds + stopwatch.Elapsed.TotalSeconds;
        log.PlotLosses();
        SampleGrid.Save(run.Generator, Options.SampleSeed, Options.SampleCount, Path.Combine(OutputFolder, "samples.png"));
        SaveCheckpoint(run, data, Options.Steps, total);
        SampleGrid.Save(run.Ema, Options.SampleSeed, Options.SampleCount, Path.Combine(OutputFolder, "samples-ema.png"));
        Log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Done in {total:F1} s. Checkpoint: {FinalCheckpointPath}"));
        log.ReportBestEvaluation(step => step == Options.Steps ? FinalCheckpointPath : File.Exists(KeptCheckpointPath(step)) ? KeptCheckpointPath(step) : null);
        return FinalCheckpointPath;
    }

    /// <summary>
    /// One discriminator update on a batch of real images and as many fresh fakes, with the R1 penalty when
    /// <paramref name="r1"/>; returns its loss (without the R1 penalty, which would make the logged loss jump every
    /// <see cref="TrainingOptions.R1Every"/> steps) and scores.
    /// </summary>
    private (Tensor Loss, Tensor Real, Tensor Fake) UpdateDiscriminator(TrainingRun run, bool r1)
    {
        var index = run.Batches.Next(run.BatchSize).to(run.Device);
        var real = run.Images.index_select(0, index);
        // R1 differentiates the real images' scores by the images as they were drawn, before any augmentation.
        if (r1) real = real.detach().requires_grad_(true);
        var labels = Model.NumClasses > 0 ? run.Labels.index_select(0, index) : null;
        // What the discriminator is told about the real images: their clusters (within their classes for a conditional
        // model), or their labels, or nothing.
        var conditions = run.Clusters?.index_select(0, index) ?? labels;
        var z = Generator.SampleLatents(Model, run.BatchSize, run.Device);
        Tensor fake;
        using (no_grad()) fake = run.Generator.forward(z, labels);
        // Augmented and scored in this order (real, then fake), which fixes the random draws of a seed.
        var realSeen = DiffAugment.Apply(real, Options.Augment);
        var (dReal, classLogits) = ScoreReals(run.Discriminator, realSeen, conditions);
        var classLoss = classLogits is null ? null : F.cross_entropy(classLogits, labels!);
        var fakeSeen = DiffAugment.Apply(fake, Options.Augment);
        var (dFake, codeLoss, _) = ScoreFakes(run.Discriminator, fakeSeen, z, labels, augment: false);
        var loss = GanLoss.Discriminator(Options.Loss, dReal, dFake, 1.0 - Options.LabelSmoothing);
        // An InfoGAN code head learns from the fakes, whose category is known. An auxiliary classifier learns from the real
        // images' labels only, so that it stays a classifier of real data: trained on fakes as well (AC-GAN's original
        // loss) it would also reward the discriminator for fakes that are merely easy to classify.
        if (classLoss is not null) loss = loss + Options.CodeWeight * classLoss;
        else if (codeLoss is not null) loss = loss + Options.CodeWeight * codeLoss;
        if (Options.Loss == LossKind.WganGp && Options.GradientPenaltyWeight > 0)
            loss = loss + Options.GradientPenaltyWeight * GanLoss.GradientPenalty(run.Discriminator, real.detach(), fake, conditions);
        if (Options.ConsistencyWeight > 0)
        {
            // bCR: the scores of every image as the discriminator saw it and of the same image shifted once more.
            var realShifted = ScoreReals(run.Discriminator, DiffAugment.Apply(realSeen, Augmentations.Translation), conditions).Scores;
            var fakeShifted = ScoreFakes(run.Discriminator, DiffAugment.Apply(fakeSeen, Augmentations.Translation), z, labels, augment: false).Scores;
            loss = loss + Options.ConsistencyWeight * (GanLoss.Consistency(dReal, realShifted) + GanLoss.Consistency(dFake, fakeShifted));
        }
        var logged = loss;
        if (r1) loss = loss + Options.R1Weight / 2 * Options.R1Every * GanLoss.R1Penalty(dReal, real);
        run.Step(run.OptimizerD, run.Discriminator, loss);
        return (logged, dReal, dFake);
    }

    /// <summary>
    /// One generator update, its adversarial loss over the <paramref name="topK"/> images the discriminator scores highest
    /// (<see cref="TrainingOptions.TopK"/>); returns its loss and, for an InfoGAN code or an auxiliary classifier, which
    /// categories or classes D's head named right.
    /// </summary>
    private (Tensor Loss, Tensor? CodeHits) UpdateGenerator(TrainingRun run, int topK)
    {
        var labels = Model.NumClasses == 0 ? null : GeneratorClasses(run.Labels, Model.NumClasses, Options.GeneratorClassesFromData, run.BatchSize, run.Device);
        var z = Generator.SampleLatents(Model, run.BatchSize, run.Device);
        var generated = run.Generator.forward(z, labels);
        var (scores, codeLoss, codeHits) = ScoreFakes(run.Discriminator, generated, z, labels);
        var loss = GanLoss.Generator(Options.Loss, GanLoss.TopScores(scores, topK));
        if (codeLoss is not null) loss = loss + Options.CodeWeight * codeLoss;
        run.Step(run.OptimizerG, run.Generator, loss);
        return (loss, codeHits);
    }

    /// <summary>
    /// The classes a conditional generator's step asks for, int64 [<paramref name="batch"/>]: uniform over the
    /// <paramref name="classes"/>, or with <paramref name="fromData"/> the labels of randomly drawn training images
    /// (<paramref name="labels"/>), so in the data's proportions (<see cref="TrainingOptions.GeneratorClassesFromData"/>).
    /// </summary>
    internal static Tensor GeneratorClasses(Tensor labels, int classes, bool fromData, long batch, Device device) => fromData
        ? labels.index_select(0, randint(0, labels.shape[0], [batch], dtype: ScalarType.Int64, device: device))
        : randint(0, classes, [batch], dtype: ScalarType.Int64, device: device);

    private void SaveCheckpoint(TrainingRun run, ImageDataset data, long step, double seconds)
    {
        var header = new Checkpoint.Header
        {
            Model = Model, Training = Options, Step = step, Dataset = data.Name,
            ClassNames = data.ClassNames, Loss = GanLoss.NameOf(Options.Loss), WallSeconds = seconds,
            Extra = new Dictionary<string, string> { [ConvolutionsKey] = ConvolutionsUsed ?? "exact" },
        };
        run.Save(header, Options.KeepCheckpoints ? [FinalCheckpointPath, KeptCheckpointPath(step)] : [FinalCheckpointPath]);
    }

    /// <summary>
    /// The discriminator's scores of real <paramref name="images"/> (as it sees them, augmented) told their
    /// <paramref name="conditions"/>, and for a model with an auxiliary classifier its class logits (null otherwise).
    /// </summary>
    private (Tensor Scores, Tensor? ClassLogits) ScoreReals(Discriminator discriminator, Tensor images, Tensor? conditions)
    {
        if (!Model.AuxiliaryClassifier) return (discriminator.forward(images, conditions), null);
        // The head learns the labels (in UpdateDiscriminator); a projection's class term is told what a class plane would
        // be: the (class, cluster) pairs of a model with clusters within classes, else the labels.
        var (scores, classLogits) = discriminator.ForwardWithClasses(images, conditions!);
        return (scores, classLogits);
    }

    /// <summary>
    /// The discriminator's scores of generated <paramref name="images"/> (made from latents <paramref name="z"/> and
    /// <paramref name="labels"/>); a self-conditioned discriminator is told the cluster each latent drew. For a model with
    /// an InfoGAN code also the cross-entropy of its code head against the categories the latents selected, and which it
    /// got right; for one with an auxiliary classifier the same of its class head against the asked classes; null otherwise.
    /// The images are augmented first (<see cref="TrainingOptions.Augment"/>) unless <paramref name="augment"/> is false.
    /// </summary>
    private (Tensor Scores, Tensor? CodeLoss, Tensor? Hits) ScoreFakes(Discriminator discriminator, Tensor images, Tensor z, Tensor? labels, bool augment = true)
    {
        if (augment) images = DiffAugment.Apply(images, Options.Augment);
        if (Model.AuxiliaryClassifier)
        {
            // As for the real images: the projection is told the (class, cluster) pair each latent drew, the head's target is the class.
            var told = Model.ClassClusters ? Generator.LatentCode(Model, z, labels) : labels!;
            var (logits, classLogits) = discriminator.ForwardWithClasses(images, told);
            return (logits, F.cross_entropy(classLogits, labels!), classLogits.argmax(1).eq(labels!));
        }
        if (Model.LatentClasses == 0) return (discriminator.forward(images, labels), null, null);
        var code = Generator.LatentCode(Model, z, labels);
        if (Model.Clustered) return (discriminator.forward(images, code), null, null);
        var (scores, codeLogits) = discriminator.ForwardWithCode(images);
        return (scores, F.cross_entropy(codeLogits, code), codeLogits.argmax(1).eq(code));
    }

    /// <summary>
    /// The k-means cluster of every training image, int64 [N], for a self-conditioned run: computed afresh (and the
    /// clusters' shares become the model's latent class prior), or read back from the checkpoint a run resumes.
    /// </summary>
    private Tensor Cluster(ImageDataset data, Checkpoint? resume, string? resumeFrom)
    {
        if (resume is not null)
        {
            var saved = SavedClusters(resume, data.Count)
                ?? throw new TrainerException($"Checkpoint '{resumeFrom}' has no clusters for the {data.Count} images of '{data.Name}', so the self-conditioned run cannot be resumed.");
            Model = Model with { LatentClassPrior = resume.Info.Model.LatentClassPrior };
            return saved;
        }
        var watch = Stopwatch.StartNew();
        using var features = Options.ClusterFeatures is { } source ? DiscriminatorFeatures(data, source) : null;
        var points = features ?? data.Images;
        var on = features is null ? "pixels" : $"the features of the discriminator in '{Options.ClusterFeatures}'";
        if (Model.ClassClusters)
        {
            var (pairs, within) = ClusterWithinClasses(data, points);
            Model = Model with { LatentClassPrior = within };
            Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Clustered the images of each of {Model.NumClasses} classes into {Model.LatentClasses} groups in {watch.Elapsed.TotalSeconds:F1} s (k-means on {on}; shares within a class {within.Min():P1} to {within.Max():P1})."));
            return pairs;
        }
        var (assignments, shares) = ImageClusters.Assign(points, Model.LatentClasses, Options.Seed);
        Model = Model with { LatentClassPrior = shares };
        // Labelled data (which the run itself never reads) tells how closely the clusters follow the classes.
        var purity = data.ClassNames.Count >= 2
            ? string.Create(CultureInfo.InvariantCulture, $"; purity against the data's {data.ClassNames.Count} classes {ImageClusters.Purity(assignments, data.Labels):P1}")
            : "";
        Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Clustered {data.Count} images into {shares.Length} groups in {watch.Elapsed.TotalSeconds:F1} s (k-means on {on}; shares {shares.Min():P1} to {shares.Max():P1}{purity})."));
        return assignments;
    }

    /// <summary>The clusters saved in <paramref name="checkpoint"/>, int64 [<paramref name="count"/>], or null when it has
    /// none for that many images.</summary>
    private static Tensor? SavedClusters(Checkpoint checkpoint, long count) =>
        checkpoint.Sections.TryGetValue("clusters", out var bytes) && bytes.Length == count * sizeof(long)
            ? tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes).ToArray())
            : null;

    /// <summary>Images scored at a time by <see cref="DiscriminatorFeatures"/>.</summary>
    private const int FeatureBatch = 256;

    /// <summary>
    /// The features of every training image, [N, F], each scaled to unit length (so k-means compares directions, as
    /// cosine similarity does), from the discriminator saved in checkpoint <paramref name="path"/>
    /// (<see cref="TrainingOptions.ClusterFeatures"/>). A discriminator that reads its classes or clusters as an input
    /// plane is given the images' labels or the clusters saved with it.
    /// </summary>
    private static Tensor DiscriminatorFeatures(ImageDataset data, string path)
    {
        var source = Checkpoint.Load(path);
        var model = source.Info.Model;
        if (model.Channels != data.Channels || model.ImageSize != data.Height || model.ImageSize != data.Width)
            throw new TrainerException($"Checkpoint '{path}' (TrainingOptions.ClusterFeatures) holds a discriminator of {model.Channels}×{model.ImageSize}×{model.ImageSize} images, but '{data.Name}' has {data.Channels}×{data.Height}×{data.Width}.");
        using var discriminator = new Discriminator(model);
        source.LoadInto(discriminator, "discriminator", path);
        using var scope = NewDisposeScope();
        Tensor? conditions = null;
        if (discriminator.ReadsLabelPlane)
        {
            if (model.Clustered)
            {
                conditions = SavedClusters(source, data.Count)
                    ?? throw new TrainerException($"Checkpoint '{path}' (TrainingOptions.ClusterFeatures) holds a discriminator that reads clusters, but not the clusters of the {data.Count} images of '{data.Name}': it was trained on other data ('{source.Info.Dataset}').");
            }
            else
            {
                if (data.ClassNames.Count == 0 || data.ClassNames.Count > model.NumClasses)
                    throw new TrainerException($"Checkpoint '{path}' (TrainingOptions.ClusterFeatures) holds a conditional discriminator of {model.NumClasses} classes; '{data.Name}' has {(data.ClassNames.Count == 0 ? "no labels" : $"{data.ClassNames.Count} classes")} to give it.");
                conditions = data.Labels;
            }
        }
        var parts = new List<Tensor>();
        for (long start = 0; start < data.Count; start += FeatureBatch)
        {
            var length = Math.Min(FeatureBatch, data.Count - start);
            parts.Add(discriminator.Features(data.Images.narrow(0, start, length), conditions?.narrow(0, start, length)));
        }
        var features = cat(parts, 0);
        return F.normalize(features, dim: 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// k-means of each class's images on its own (<see cref="ModelConfig.ClassClusters"/>), on <paramref name="points"/>
    /// (the images, or their features, row for row): every image's (class, cluster) pair as class·K + cluster, int64 [N],
    /// and the clusters' shares within each class, class by class.
    /// </summary>
    private (Tensor Pairs, double[] Shares) ClusterWithinClasses(ImageDataset data, Tensor points)
    {
        var k = Model.LatentClasses;
        var pairs = new long[data.Count];
        var shares = new double[Model.NumClasses * k];
        var byClass = data.Labels.data<long>().ToArray();
        for (var c = 0; c < Model.NumClasses; c++)
        {
            var members = Enumerable.Range(0, byClass.Length).Where(i => byClass[i] == c).Select(i => (long)i).ToArray();
            var name = c < data.ClassNames.Count ? $"'{data.ClassNames[c]}'" : c.ToString(CultureInfo.InvariantCulture);
            if (members.Length < k)
                throw new TrainerException($"Class {name} of '{data.Name}' has {members.Length} images, fewer than the {k} clusters asked for in each class (--clusters); use at most {members.Length}, or drop the class from the data.");
            using var scope = NewDisposeScope();
            using var subset = points.index_select(0, tensor(members));
            var (assignments, within) = ImageClusters.Assign(subset, k, Options.Seed + c);
            var local = assignments.data<long>().ToArray();
            for (var i = 0; i < members.Length; i++) pairs[members[i]] = c * k + local[i];
            within.CopyTo(shares, c * k);
        }
        return (tensor(pairs), shares);
    }

    private void CheckResumable(Checkpoint checkpoint, string path, ImageDataset data)
    {
        if (checkpoint.Info.Extra.TryGetValue(CheckpointAverage.AveragedFromKey, out var averaged))
            throw new TrainerException($"Checkpoint '{path}' is a generator averaged over {averaged} ('ganonnx-train average'): it has nothing to resume from; resume from one of the checkpoints it was made from.");
        if (checkpoint.Info.Model.MinibatchStdGroup > 0 && Model.MinibatchStdGroup == 0)
            throw new TrainerException($"Checkpoint '{path}' has minibatch standard deviation (groups of {checkpoint.Info.Model.MinibatchStdGroup}) in its discriminator; a resume can keep it or change the group size (--minibatch-std), not take it out.");
        if (checkpoint.Info.Model.ForComparison() != Model.ForComparison())
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
            throw new TrainerException($"Checkpoint '{path}' is at step {checkpoint.Info.Step}; ask for more TrainingOptions.Steps than that to continue it.");
        foreach (var section in TrainingRun.ResumeSections)
            if (!checkpoint.Sections.ContainsKey(section))
                throw new TrainerException($"Checkpoint '{path}' has no '{section}' section, so the run cannot be resumed exactly.");
    }

    /// <summary>Sets <see cref="NativeConvolutions.Enabled"/> for this run and logs which path it takes and why.</summary>
    private void ChooseConvolutions(Checkpoint? resume)
    {
        ConvolutionsUsed = ConvolutionChoice.Apply(Options.Convolutions, Device, Model, Options, resume, Log);
    }

    /// <summary>What a diverged run's error advises: a CPU run forced onto the native kernels is pointed back to the self-check first.</summary>
    private string DivergenceHint =>
        Options.Convolutions == ConvolutionKernels.Native && Device.type == DeviceType.CPU
            ? "This run was asked to use libtorch's native convolutions unchecked; on some processors their float32 gradients turn NaN now and then: train with --convolutions auto (the self-check picks the exact path where they are wrong) or exact, then lower the learning rates if it still diverges."
            : RunLog.DefaultDivergenceHint;

    /// <summary>The checkpoint header's key for the convolution path a run took.</summary>
    public const string ConvolutionsKey = "convolutions";

    /// <summary>"native" or "exact": the convolution path of the last <see cref="Train"/> call.</summary>
    public string? ConvolutionsUsed { get; private set; }

    /// <summary>Says which training settings of a resumed run (the optimizer's, R1's, the discriminator's dropout, the
    /// batch, the losses' weights, the augmentation, the EMA's decay) differ from the checkpoint's; the resume is then not
    /// exact, and the checkpoints it writes record the new settings.</summary>
    private void ReportChangedSettings(TrainingOptions saved, ModelConfig savedModel)
    {
        var changes = new List<string>();
        void Compare(string option, double before, double now)
        {
            if (before != now) changes.Add(string.Create(CultureInfo.InvariantCulture, $"{option} {before:G6} → {now:G6}"));
        }
        Compare("TrainingOptions.LearningRateG", saved.LearningRateG, Options.LearningRateG);
        Compare("TrainingOptions.LearningRateD", saved.LearningRateD, Options.LearningRateD);
        Compare("TrainingOptions.LearningRateDecayAt", saved.LearningRateDecayAt, Options.LearningRateDecayAt);
        if (Options.LearningRateDecayAt > 0) Compare("TrainingOptions.LearningRateDecay", saved.LearningRateDecay, Options.LearningRateDecay);
        if (Options.Optimizer == OptimizerKind.Adam)
        {
            Compare("TrainingOptions.Beta1", saved.Beta1, Options.Beta1);
            Compare("TrainingOptions.Beta2", saved.Beta2, Options.Beta2);
        }
        Compare("TrainingOptions.R1Weight", saved.R1Weight, Options.R1Weight);
        if (Options.R1Weight > 0 && saved.R1Weight > 0) Compare("TrainingOptions.R1Every", saved.R1Every, Options.R1Every);
        Compare("TrainingOptions.ConsistencyWeight", saved.ConsistencyWeight, Options.ConsistencyWeight);
        Compare("TrainingOptions.TopK", saved.TopK, Options.TopK);
        Compare("ModelConfig.DiscriminatorDropout", savedModel.EffectiveDiscriminatorDropout, Model.EffectiveDiscriminatorDropout);
        Compare("ModelConfig.MinibatchStdGroup", savedModel.MinibatchStdGroup, Model.MinibatchStdGroup);
        Compare("TrainingOptions.BatchSize", saved.BatchSize, Options.BatchSize);
        Compare("TrainingOptions.CriticSteps", saved.CriticSteps, Options.CriticSteps);
        if (Options.Loss == LossKind.WganGp) Compare("TrainingOptions.GradientPenaltyWeight", saved.GradientPenaltyWeight, Options.GradientPenaltyWeight);
        Compare("TrainingOptions.ClipValue", saved.ClipValue, Options.ClipValue);
        Compare("TrainingOptions.LabelSmoothing", saved.LabelSmoothing, Options.LabelSmoothing);
        Compare("TrainingOptions.CodeWeight", saved.CodeWeight, Options.CodeWeight);
        Compare("TrainingOptions.EmaDecay", saved.EmaDecay, Options.EmaDecay);
        Compare("TrainingOptions.EmaRampup", saved.EmaRampup, Options.EmaRampup);
        if (Model.NumClasses > 0 && saved.GeneratorClassesFromData != Options.GeneratorClassesFromData)
            changes.Add($"TrainingOptions.GeneratorClassesFromData {(saved.GeneratorClassesFromData ? "data" : "uniform")} → {(Options.GeneratorClassesFromData ? "data" : "uniform")}");
        if (saved.Augment != Options.Augment)
            changes.Add($"TrainingOptions.Augment {DiffAugment.NameOf(saved.Augment)} → {DiffAugment.NameOf(Options.Augment)}");
        if (changes.Count > 0) Log.WriteLine($"Resuming with changed training settings: {string.Join(", ", changes)}.");
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
        using var scalars = new Optimizers.HeldScalars();
        var keep = scalars.Of(decay);
        var take = scalars.Of(1 - decay);
        foreach (var (pe, pg) in ema.parameters().Zip(g.parameters()))
            pe.mul_(keep).add_(pg, alpha: take);
    }

}
