using System.Text.Json.Serialization;

namespace GanOnnx.Trainer.Training;

/// <summary>Optimizers the trainer offers.</summary>
public enum OptimizerKind
{
    /// <summary>Adam (the DCGAN and MLP GAN write-ups).</summary>
    Adam,
    /// <summary>RMSprop with gradient-value clipping (the Keras DCGAN write-up).</summary>
    RmsProp,
}

/// <summary>How a run trains. Defaults follow the DCGAN paper (Adam 2e-4, β1 0.5, batch 64).</summary>
public sealed record TrainingOptions
{
    /// <summary>
    /// Convolution kernels: <see cref="Models.ConvolutionKernels.Auto"/> (default) runs <see cref="Models.ConvolutionCheck"/>
    /// at start-up on the CPU and uses libtorch's native kernels where they are exact on this processor, the exact path
    /// elsewhere; Native or Exact force one. On a GPU, Auto takes the native (cuDNN) kernels.
    /// </summary>
    public Models.ConvolutionKernels Convolutions { get; init; } = Models.ConvolutionKernels.Auto;
    /// <summary>Generator steps to train. Default 1000.</summary>
    public int Steps { get; init; } = 1000;
    /// <summary>Images per batch. Default 64.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Seed of every random choice (weights, shuffling, latents). Default 1.</summary>
    public long Seed { get; init; } = 1;
    /// <summary>Adversarial loss. Default BCE.</summary>
    public LossKind Loss { get; init; } = LossKind.Bce;
    /// <summary>Discriminator (critic) updates per generator update. Default 1 (WGAN-GP usually 5).</summary>
    public int CriticSteps { get; init; } = 1;
    /// <summary>Weight λ of WGAN-GP's gradient penalty. Default 10.</summary>
    public double GradientPenaltyWeight { get; init; } = 10;
    /// <summary>
    /// Weight γ of the R1 penalty (Mescheder et al. 2018): (γ/2)·E[‖∇ₓ D(x)‖²] on the real images (taken before
    /// augmentation, as in StyleGAN2-ADA) is added to the discriminator's loss; 0 = off. Any loss; usually with BCE. Default 0.
    /// </summary>
    public double R1Weight { get; init; }
    /// <summary>
    /// Lazy regularization (StyleGAN2): the R1 penalty is computed in the first discriminator update of every this many
    /// steps only, weighted by this many times γ so that its average stays the same. 1 = every step. Default 16.
    /// </summary>
    public int R1Every { get; init; } = 16;
    /// <summary>
    /// Weight λ of balanced consistency regularization (bCR, Zhao et al. 2021): in each discriminator update,
    /// λ·E[(D(x) − D(T(x)))²] over the real images and again over the generated ones, where x is an image as the
    /// discriminator sees it (after <see cref="Augment"/>) and T shifts it by up to 1/8 of its size (DiffAugment's
    /// translation). Each costs a second pass of the discriminator over its batch. 0 = off (the paper uses 10). Default 0.
    /// </summary>
    public double ConsistencyWeight { get; init; }
    /// <summary>
    /// Top-k generator updates (Sinha et al. 2020, "Top-k Training of GANs: Improving GAN Performance by Throwing Away
    /// Bad Samples"): the generator's loss is taken over the k generated images of its batch that the discriminator scores
    /// as most real, the rest's gradients dropped. k starts at the whole batch and shrinks by <see cref="TopKDecayPerEpoch"/>
    /// every epoch of the training data down to this share of the batch. 1 = off (every image counts); the paper
    /// uses 0.5, or 0.75 for some models. Default 1.
    /// </summary>
    public double TopK { get; init; } = 1;
    /// <summary>What k's share of the batch is multiplied by every epoch, down to <see cref="TopK"/> (the paper's γ). Default 0.99.</summary>
    public const double TopKDecayPerEpoch = 0.99;
    /// <summary>Optimizer. Default Adam.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<OptimizerKind>))]
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    /// <summary>Generator learning rate. Default 2e-4.</summary>
    public double LearningRateG { get; init; } = 2e-4;
    /// <summary>Discriminator learning rate. Default 2e-4.</summary>
    public double LearningRateD { get; init; } = 2e-4;
    /// <summary>Adam β1. Default 0.5.</summary>
    public double Beta1 { get; init; } = 0.5;
    /// <summary>Adam β2. Default 0.999 (WGAN-GP uses 0.9).</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>
    /// Step after which both learning rates are multiplied by <see cref="LearningRateDecay"/> (0 = never): steps 1…this
    /// train at <see cref="LearningRateG"/> and <see cref="LearningRateD"/>, later steps at the decayed rates. A run with
    /// it ends exactly where a run stopped at that step and resumed with the decayed rates would (on the CPU). Default 0.
    /// </summary>
    public int LearningRateDecayAt { get; init; }
    /// <summary>Factor on both learning rates after <see cref="LearningRateDecayAt"/>. Default 0.5.</summary>
    public double LearningRateDecay { get; init; } = 0.5;
    /// <summary>Clip every gradient value to ±this (0 = no clipping; the Keras preset uses 1.0). Default 0.</summary>
    public double ClipValue { get; init; }
    /// <summary>
    /// For conditional models: the generator's step asks for classes in the training data's proportions (true), as the
    /// discriminator's step already does with the real batch's labels, instead of all classes equally often (false, the
    /// default). On a set whose classes differ a lot in size (the emoji: 60 % People &amp; Body, 8 % Flags) the default gives
    /// the generator its updates for the rarest class as often as for the largest.
    /// </summary>
    public bool GeneratorClassesFromData { get; init; }
    /// <summary>One-sided label smoothing: real targets are 1 − this. Default 0.</summary>
    public double LabelSmoothing { get; init; }
    /// <summary>Weight λ of the auxiliary cross-entropy: the InfoGAN code's in both players' losses (models with latent
    /// classes), or the auxiliary classifier's (<see cref="Models.ModelConfig.AuxiliaryClassifier"/>) on the real labels for
    /// the discriminator and on the asked classes for the generator. Default 1.</summary>
    public double CodeWeight { get; init; } = 1;
    /// <summary>Decay of the exponential moving average of the generator's weights (kept beside the raw weights). Default 0.999.</summary>
    public double EmaDecay { get; init; } = 0.999;
    /// <summary>
    /// EMA ramp-up (StyleGAN2-ADA's <c>ema_rampup</c>): the average's half-life, in steps, is at most this fraction of the
    /// steps trained so far, so that early on it follows the generator instead of averaging in the first steps' noise; 0 =
    /// off (a fixed <see cref="EmaDecay"/> from step 1). Default 0.05.
    /// </summary>
    public double EmaRampup { get; init; } = 0.05;
    /// <summary>Differentiable augmentation of every image the discriminator sees (<see cref="DiffAugment"/>). Default none.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<Augmentations>))]
    public Augmentations Augment { get; init; }
    /// <summary>
    /// For a self-conditioned model (<see cref="Models.ModelConfig.Clustered"/>): the checkpoint of an earlier run whose
    /// discriminator's features the training images are clustered on, instead of their pixels, as the self-conditioned
    /// GAN's authors cluster (Liu et al. 2020, "Diverse Image Generation via Self-Conditioned GANs"). Take an
    /// unconditional run's: a discriminator told its clusters through an input plane mostly gives them back (on
    /// Fashion-MNIST an unconditional one's features raised the clusters' purity from 65.7 % to 67.9 %, docs/training.md).
    /// Clustered once, at the start; a resumed run reads its clusters back from its own checkpoint. Default null: pixels.
    /// </summary>
    public string? ClusterFeatures { get; init; }
    /// <summary>
    /// The checkpoint of another run whose generator, generator average and discriminator this run starts from, instead of
    /// fresh weights (a warm start: the optimizers, the step count and the learning-rate schedule start afresh). The models
    /// must have the same layers; what conditions them may differ. A conditional run can start from an unconditional
    /// self-conditioned one trained on the same data: each of its classes (or (class, cluster) pairs) then starts as the
    /// source's cluster that most of its images were in, so the run begins where the source ended and learns the classes
    /// from there, the cure Shahbazi et al. (2022, "Collapse by Conditioning") give for conditional GANs on little data.
    /// Rows with nothing to start from (a source without conditioning, or trained on other data) start at zero: the
    /// condition starts ignored. Read once, at the start; a resumed run does not need it. Default null: fresh weights.
    /// </summary>
    public string? InitFrom { get; init; }
    /// <summary>Log a line every this many steps. Default 50.</summary>
    public int LogEvery { get; init; } = 50;
    /// <summary>Write a sample grid every this many steps (and at the end); 0 = only at the end. Default 500.</summary>
    public int SampleEvery { get; init; } = 500;
    /// <summary>Write a checkpoint every this many steps (and at the end); 0 = only at the end. Default 1000.</summary>
    public int CheckpointEvery { get; init; } = 1000;
    /// <summary>
    /// Also keep every checkpoint as <c>checkpoints/step-NNNNNN.gockpt</c> beside the latest one, so that the step that
    /// scored best (eval.jsonl) can be exported or resumed later. Default false: only the latest is kept.
    /// </summary>
    public bool KeepCheckpoints { get; init; }
    /// <summary>Score the generator and its EMA with the dataset's classifier every this many steps (0 = never). Default 0.</summary>
    public int EvalEvery { get; init; }
    /// <summary>Images generated per evaluation. Default 2000.</summary>
    public int EvalCount { get; init; } = 2000;
    /// <summary>Seed of the fixed latents of the sample grids. Default 42.</summary>
    public long SampleSeed { get; init; } = 42;
    /// <summary>Images in a sample grid. Default 64.</summary>
    public int SampleCount { get; init; } = 64;

    /// <summary>What the learning rates are multiplied by in <paramref name="step"/> (1-based): 1, or
    /// <see cref="LearningRateDecay"/> after <see cref="LearningRateDecayAt"/>.</summary>
    public double LearningRateScaleAt(long step) => LearningRateDecayAt > 0 && step > LearningRateDecayAt ? LearningRateDecay : 1;

    /// <summary>
    /// How many of the generator's <paramref name="batch"/> images count in its loss in <paramref name="step"/> (1-based)
    /// on a dataset of <paramref name="datasetSize"/> images (<see cref="TopK"/>): the batch times
    /// max(<see cref="TopKDecayPerEpoch"/>^epoch, <see cref="TopK"/>), epoch counted from 0, and at least 1. The batch is
    /// the one the run trains with (<see cref="BatchSize"/>, or the whole dataset where that is smaller).
    /// </summary>
    public int TopKAt(long step, int batch, long datasetSize)
    {
        if (TopK >= 1) return batch;
        var epoch = (step - 1) * batch / Math.Max(1, datasetSize);
        var share = Math.Max(Math.Pow(TopKDecayPerEpoch, epoch), TopK);
        return Math.Clamp((int)Math.Round(batch * share), 1, batch);
    }

    /// <summary>Whether <paramref name="step"/> (1-based) adds the R1 penalty (see <see cref="R1Every"/>).</summary>
    public bool R1Due(long step) => R1Weight > 0 && step % R1Every == 0;

    /// <summary>Throws <see cref="TrainerException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (Steps < 1) throw new TrainerException($"TrainingOptions.Steps is {Steps}; it must be at least 1.");
        if (BatchSize is < 1 or > 65536) throw new TrainerException($"TrainingOptions.BatchSize is {BatchSize}; it must be between 1 and 65536.");
        if (!(LearningRateG > 0 && LearningRateG < 1)) throw new TrainerException($"TrainingOptions.LearningRateG is {LearningRateG}; it must be in (0, 1).");
        if (!(LearningRateD > 0 && LearningRateD < 1)) throw new TrainerException($"TrainingOptions.LearningRateD is {LearningRateD}; it must be in (0, 1).");
        if (LearningRateDecayAt < 0) throw new TrainerException($"TrainingOptions.LearningRateDecayAt is {LearningRateDecayAt}; it must be 0 (never) or a step.");
        if (!(LearningRateDecay > 0 && LearningRateDecay <= 1)) throw new TrainerException($"TrainingOptions.LearningRateDecay is {LearningRateDecay}; it must be in (0, 1].");
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new TrainerException($"TrainingOptions.Beta1 is {Beta1}; it must be in [0, 1).");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new TrainerException($"TrainingOptions.Beta2 is {Beta2}; it must be in [0, 1).");
        if (!(ClipValue >= 0)) throw new TrainerException($"TrainingOptions.ClipValue is {ClipValue}; it must be 0 (off) or more.");
        if (!(LabelSmoothing >= 0 && LabelSmoothing < 0.5)) throw new TrainerException($"TrainingOptions.LabelSmoothing is {LabelSmoothing}; it must be in [0, 0.5).");
        if ((Augment & ~(Augmentations.Color | Augmentations.Translation | Augmentations.Cutout)) != 0)
            throw new TrainerException($"TrainingOptions.Augment {(int)Augment} is unknown; choose from color, translation and cutout.");
        if (!Enum.IsDefined(Loss)) throw new TrainerException($"TrainingOptions.Loss {(int)Loss} is unknown; choose bce, wgan-gp or hinge.");
        if (CriticSteps is < 1 or > 100) throw new TrainerException($"TrainingOptions.CriticSteps is {CriticSteps}; it must be between 1 and 100.");
        if (!(GradientPenaltyWeight >= 0)) throw new TrainerException($"TrainingOptions.GradientPenaltyWeight is {GradientPenaltyWeight}; it must be 0 or more.");
        if (!(R1Weight >= 0 && R1Weight <= 1e6)) throw new TrainerException($"TrainingOptions.R1Weight is {R1Weight}; it must be between 0 (off) and 1000000.");
        if (!(ConsistencyWeight >= 0 && ConsistencyWeight <= 1e6)) throw new TrainerException($"TrainingOptions.ConsistencyWeight is {ConsistencyWeight}; it must be between 0 (off) and 1000000.");
        if (!(TopK > 0 && TopK <= 1)) throw new TrainerException($"TrainingOptions.TopK is {TopK}; it must be a share of the batch in (0, 1] (1 = off; the paper uses 0.5).");
        if (R1Every is < 1 or > 1_000_000) throw new TrainerException($"TrainingOptions.R1Every is {R1Every}; it must be between 1 (every step) and 1000000.");
        if (!(CodeWeight >= 0 && CodeWeight <= 100)) throw new TrainerException($"TrainingOptions.CodeWeight is {CodeWeight}; it must be between 0 and 100.");
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw new TrainerException($"TrainingOptions.EmaDecay is {EmaDecay}; it must be in [0, 1).");
        if (!(EmaRampup >= 0 && EmaRampup <= 1)) throw new TrainerException($"TrainingOptions.EmaRampup is {EmaRampup}; it must be between 0 (off) and 1.");
        if (LogEvery < 1) throw new TrainerException($"TrainingOptions.LogEvery is {LogEvery}; it must be at least 1.");
        if (SampleEvery < 0) throw new TrainerException($"TrainingOptions.SampleEvery is {SampleEvery}; it must be 0 (end only) or more.");
        if (CheckpointEvery < 0) throw new TrainerException($"TrainingOptions.CheckpointEvery is {CheckpointEvery}; it must be 0 (end only) or more.");
        if (EvalEvery < 0) throw new TrainerException($"TrainingOptions.EvalEvery is {EvalEvery}; it must be 0 (never) or more.");
        if (EvalCount is < 2 or > 1_000_000) throw new TrainerException($"TrainingOptions.EvalCount is {EvalCount}; it must be between 2 and 1000000.");
        if (ClusterFeatures is { } features && string.IsNullOrWhiteSpace(features))
            throw new TrainerException("TrainingOptions.ClusterFeatures is empty; give the path of a checkpoint, or null to cluster on pixels.");
        if (InitFrom is { } init && string.IsNullOrWhiteSpace(init))
            throw new TrainerException("TrainingOptions.InitFrom is empty; give the path of a checkpoint, or null to start from fresh weights.");
        if (SampleCount is < 1 or > 1024) throw new TrainerException($"TrainingOptions.SampleCount is {SampleCount}; it must be between 1 and 1024.");
    }
}
