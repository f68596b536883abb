using System.Globalization;

namespace GanOnnx.Trainer.Cli;

/// <summary><c>ganonnx-train train</c>: options to a model, a recipe and a run.</summary>
internal static class TrainCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var data = new Option<string>("--data") { Description = "Folder of IDX files (train-images-idx3-ubyte[.gz] and labels).", Required = true };
        var outOption = new Option<string>("--out") { Description = "Output folder for checkpoint, samples and metrics.", Required = true };
        var recipeOption = new Option<string?>("--recipe") { Description = $"Start from a named recipe: its architecture, loss, batch size and optimizer settings (flags given override them): {string.Join(", ", TrainingRecipe.Named.Select(r => r.Name))}." };
        var arch = new Option<string>("--arch") { Description = "Architecture: mlp, keras-dcgan or dcgan.", DefaultValueFactory = _ => "dcgan" };
        var steps = new Option<int>("--steps") { Description = "Generator steps.", DefaultValueFactory = _ => 1000 };
        var batch = new Option<int>("--batch-size") { Description = "Images per batch.", DefaultValueFactory = _ => 64 };
        var seed = new Option<long>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 };
        var latent = new Option<int>("--latent") { Description = "Latent size.", DefaultValueFactory = _ => 100 };
        var width = new Option<int>("--width") { Description = "Base width (0 = the architecture's default).", DefaultValueFactory = _ => 0 };
        var conditional = new Option<bool>("--conditional") { Description = "Train a class-conditional GAN on the dataset's labels." };
        var latentClasses = new Option<int>("--latent-classes") { Description = "Unconditional models: categories of an InfoGAN code read from the latent (0 = none; 10 suits MNIST).", DefaultValueFactory = _ => 0 };
        var clusters = new Option<int>("--clusters") { Description = "Self-conditioning on K k-means clusters of the training images (0 = none; 50 suits MNIST); with --conditional, K clusters within each class.", DefaultValueFactory = _ => 0 };
        var clusterFeatures = new Option<string?>("--cluster-features") { Description = "With --clusters: cluster on the features of the discriminator in this checkpoint of an earlier run, instead of on pixels (take an unconditional run's)." };
        var codeWeight = new Option<double>("--code-weight") { Description = "Weight of the InfoGAN code's loss, or of the auxiliary classifier's (--aux-classifier).", DefaultValueFactory = _ => 1 };
        var augment = new Option<string>("--augment") { Description = "Differentiable augmentation of what the discriminator sees: color, translation, cutout (comma-separated) or none.", DefaultValueFactory = _ => "none" };
        var spectralNorm = new Option<bool>("--spectral-norm") { Description = "Spectrally normalize the discriminator's weights (Miyato et al. 2018)." };
        var gDepth = new Option<int>("--g-depth") { Description = "dcgan: extra 3×3 layers (with BatchNorm and ReLU) at each of the generator's resolutions, 0–4 (0 = the write-up's generator).", DefaultValueFactory = _ => 0 };
        var dWidth = new Option<int>("--d-width") { Description = "Base width of the discriminator alone (0 = the same as --width).", DefaultValueFactory = _ => 0 };
        var dropout = new Option<double?>("--d-dropout") { Description = "Dropout after each hidden layer of the discriminator (default: the architecture's, 0.3 for dcgan, 0.4 for keras-dcgan, none for mlp; 0 = none)." };
        var minibatchStd = new Option<int>("--minibatch-std") { Description = "Minibatch standard deviation in the discriminator (Karras et al. 2018): the spread of groups of this many images as one more feature before its last layer (0 = none; StyleGAN uses 4).", DefaultValueFactory = _ => 0 };
        var projection = new Option<bool>("--projection") { Description = "Conditional and self-conditioned models: a projection discriminator (Miyato & Koyama 2018) instead of the class plane." };
        var auxClassifier = new Option<bool>("--aux-classifier") { Description = "Conditional models: an auxiliary classifier head on the discriminator (AC-GAN, Odena et al. 2017) that learns the labels, and a generator loss for images it classifies as asked." };
        var generatorClasses = new Option<string>("--g-classes") { Description = "Conditional models: the classes the generator's step asks for: uniform (all equally often) or data (in the training data's proportions, as the discriminator sees them).", DefaultValueFactory = _ => "uniform" };
        var optimizer = new Option<string>("--optimizer") { Description = "adam or rmsprop (default: rmsprop for keras-dcgan, adam otherwise)." };
        var lrG = new Option<double?>("--lr-g") { Description = "Generator learning rate (default 2e-4; keras-dcgan 4e-4)." };
        var lrD = new Option<double?>("--lr-d") { Description = "Discriminator learning rate (default 2e-4; keras-dcgan 8e-4)." };
        var lrDecayAt = new Option<int>("--lr-decay-at") { Description = "After this step, multiply both learning rates by --lr-decay (0 = never).", DefaultValueFactory = _ => 0 };
        var lrDecay = new Option<double>("--lr-decay") { Description = "Factor on both learning rates after --lr-decay-at.", DefaultValueFactory = _ => 0.5 };
        var beta1 = new Option<double?>("--beta1") { Description = "Adam β1 (default 0.5; wgan-gp 0)." };
        var beta2 = new Option<double?>("--beta2") { Description = "Adam β2 (default 0.999; wgan-gp 0.9)." };
        var loss = new Option<string>("--loss") { Description = "bce, wgan-gp or hinge.", DefaultValueFactory = _ => "bce" };
        var criticSteps = new Option<int?>("--critic-steps") { Description = "Critic updates per generator update (default 1; wgan-gp 5)." };
        var gpWeight = new Option<double>("--gp-weight") { Description = "WGAN-GP gradient penalty weight λ.", DefaultValueFactory = _ => 10 };
        var r1 = new Option<double>("--r1") { Description = "R1 penalty weight γ on the real images' gradient (Mescheder et al. 2018; 0 = off).", DefaultValueFactory = _ => 0 };
        var consistency = new Option<double>("--consistency") { Description = "Consistency regularization weight λ (bCR, Zhao et al. 2021): the discriminator learns to score each real and generated image as it scores the image shifted by up to 1/8 of its size (0 = off; the paper uses 10).", DefaultValueFactory = _ => 0 };
        var topK = new Option<double>("--top-k") { Description = "Top-k generator updates (Sinha et al. 2020): the generator learns from the share of its batch the discriminator scores as most real, shrinking from the whole batch by 0.99 per epoch to this share (1 = off; the paper uses 0.5).", DefaultValueFactory = _ => 1 };
        var r1Every = new Option<int>("--r1-every") { Description = "Compute the R1 penalty every N steps only, weighted N× (lazy regularization, StyleGAN2).", DefaultValueFactory = _ => 16 };
        var emaDecay = new Option<double>("--ema-decay") { Description = "Decay of the generator's weight average.", DefaultValueFactory = _ => 0.999 };
        var emaRampup = new Option<double>("--ema-rampup") { Description = "The average's half-life is at most this fraction of the steps so far (StyleGAN2-ADA; 0 = off).", DefaultValueFactory = _ => 0.05 };
        var initFrom = new Option<string?>("--init-from") { Description = "Start from the generator, average and discriminator in this checkpoint of another run (a warm start, with fresh optimizers; the models must have the same layers, their conditioning may differ: a conditional run can start from a --clusters run on the same data)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this checkpoint (same data, seed and model)." };
        var evalEvery = new Option<int>("--eval-every") { Description = "Score the generator and its EMA every N steps (eval.jsonl; needs t10k files).", DefaultValueFactory = _ => 0 };
        var evalCount = new Option<int>("--eval-count") { Description = "Images per evaluation.", DefaultValueFactory = _ => 2000 };
        var imageSize = new Option<int>("--image-size") { Description = "Image folders: the square size images are resized and cropped to.", DefaultValueFactory = _ => 64 };
        var channelsOption = new Option<int>("--channels") { Description = "Image folders: 1 (grayscale) or 3 (RGB).", DefaultValueFactory = _ => 3 };
        var onBadImage = new Option<string>("--on-bad-image") { Description = "Image folders: fail or skip when a file is not a readable image.", DefaultValueFactory = _ => "fail" };
        var classifierOption = new Option<string?>("--classifier") { Description = "Evaluation classifier (default: the data folder's classifier.gockpt, trained if missing)." };
        var convolutions = new Option<string>("--convolutions") { Description = "auto (self-check at start-up: native kernels where exact on this processor), native or exact.", DefaultValueFactory = _ => "auto" };
        var clip = new Option<double?>("--clip") { Description = "Clip gradient values to ±this (default 0 = off; keras-dcgan 1.0)." };
        var smoothing = new Option<double>("--label-smoothing") { Description = "One-sided label smoothing for real images.", DefaultValueFactory = _ => 0 };
        var logEvery = new Option<int>("--log-every") { Description = "Log every N steps.", DefaultValueFactory = _ => 50 };
        var sampleEvery = new Option<int>("--sample-every") { Description = "Sample grid every N steps (0 = end only).", DefaultValueFactory = _ => 500 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Checkpoint every N steps (0 = end only).", DefaultValueFactory = _ => 1000 };
        var keepCheckpoints = new Option<bool>("--keep-checkpoints") { Description = "Also keep every checkpoint as checkpoints/step-NNNNNN.gockpt (default: only the latest)." };
        var threads = new Option<int>("--threads") { Description = "CPU threads for TorchSharp (0 = all cores).", DefaultValueFactory = _ => 0 };
        var deviceOption = new Option<string>("--device") { Description = "cpu, cuda or cuda:N (CUDA needs a build with -p:TorchBackend=Cuda).", DefaultValueFactory = _ => "cpu" };
        var command = new Command("train", "Train a GAN on a dataset and write a checkpoint and sample grids.")
        {
            data, outOption, recipeOption, arch, steps, batch, seed, latent, width, gDepth, conditional, latentClasses, clusters, clusterFeatures, codeWeight, spectralNorm, dWidth, dropout, minibatchStd, projection, auxClassifier, augment, loss, criticSteps, gpWeight, r1, r1Every, consistency, topK, generatorClasses, optimizer, lrG, lrD, lrDecayAt, lrDecay, beta1, beta2,
            clip, smoothing, emaDecay, emaRampup, logEvery, sampleEvery, checkpointEvery, keepCheckpoints, threads, deviceOption, resume, initFrom, evalEvery, evalCount, classifierOption,
            imageSize, channelsOption, onBadImage, convolutions,
        };
        command.SetAction(parse => TrainerCli.Guarded(error, () =>
        {
            // A named recipe gives the architecture, loss, batch size and optimizer settings; flags given on the command line win.
            var named = parse.GetValue(recipeOption) is { } recipeName ? TrainingRecipe.Get(recipeName) : null;
            bool Given(Option option) => parse.GetResult(option) is { Implicit: false };
            var architecture = named is not null && !Given(arch) ? named.Model.Architecture : ModelConfig.ParseArchitecture(parse.GetValue(arch)!);
            var lossKind = named is not null && !Given(loss) ? named.Options.Loss : GanLoss.Parse(parse.GetValue(loss)!);
            var recipe = named is not null && named.Model.Architecture == architecture && named.Options.Loss == lossKind
                ? named.Options
                : TrainingRecipe.For(architecture, lossKind); // the library's defaults for this model and loss
            var optimizerKind = parse.GetValue(optimizer) is not { } optimizerName ? recipe.Optimizer : optimizerName.ToLowerInvariant() switch
            {
                "adam" => OptimizerKind.Adam,
                "rmsprop" => OptimizerKind.RmsProp,
                _ => throw new TrainerException($"--optimizer is '{optimizerName}'; choose adam or rmsprop."),
            };
            var threadCount = parse.GetValue(threads);
            if (threadCount < 0) throw new TrainerException($"--threads is {threadCount}; it must be 0 (all cores) or more.");
            TorchSharp.torch.set_num_threads(threadCount > 0 ? threadCount : Environment.ProcessorCount);
            var device = TrainingDevice.Resolve(parse.GetValue(deviceOption)!);

            var folder = parse.GetValue(data)!;
            var policy = TrainerCli.ParseBadImagePolicy(parse.GetValue(onBadImage)!);
            var range = architecture == GanArchitecture.Dcgan ? ValueRange.Tanh : ValueRange.Sigmoid;
            // Image folders are resized to the recipe's shape unless --image-size/--channels say otherwise; IDX files keep theirs.
            var size = named is not null && !Given(imageSize) ? named.Model.ImageSize : parse.GetValue(imageSize);
            var channelCount = named is not null && !Given(channelsOption) ? named.Model.Channels : parse.GetValue(channelsOption);
            using var dataset = LoadTrainingData(folder, range, size, channelCount, policy, output);
            var classes = parse.GetValue(conditional) ? dataset.ClassNames.Count : 0;
            var clusterCount = parse.GetValue(clusters);
            if (clusterCount != 0 && parse.GetValue(latentClasses) != 0)
                throw new TrainerException("--clusters and --latent-classes both draw a category from the latent; choose one.");
            var model = new ModelConfig
            {
                Architecture = architecture, LatentDim = parse.GetValue(latent), Channels = dataset.Channels,
                ImageSize = dataset.Height, Width = parse.GetValue(width), GeneratorDepth = parse.GetValue(gDepth), NumClasses = classes,
                LatentClasses = clusterCount != 0 ? clusterCount : parse.GetValue(latentClasses), Clustered = clusterCount != 0,
                SpectralNorm = parse.GetValue(spectralNorm),
                DiscriminatorWidth = parse.GetValue(dWidth), DiscriminatorDropout = parse.GetValue(dropout),
                MinibatchStdGroup = parse.GetValue(minibatchStd),
                Projection = parse.GetValue(projection),
                AuxiliaryClassifier = parse.GetValue(auxClassifier),
            };
            model.Validate();
            var options = recipe with
            {
                Steps = parse.GetValue(steps), BatchSize = named is not null && !Given(batch) ? recipe.BatchSize : parse.GetValue(batch), Seed = parse.GetValue(seed),
                Optimizer = optimizerKind,
                CriticSteps = parse.GetValue(criticSteps) ?? recipe.CriticSteps, GradientPenaltyWeight = parse.GetValue(gpWeight),
                R1Weight = parse.GetValue(r1), R1Every = parse.GetValue(r1Every), ConsistencyWeight = parse.GetValue(consistency), TopK = parse.GetValue(topK),
                LearningRateG = parse.GetValue(lrG) ?? recipe.LearningRateG,
                LearningRateD = parse.GetValue(lrD) ?? recipe.LearningRateD,
                LearningRateDecayAt = parse.GetValue(lrDecayAt), LearningRateDecay = parse.GetValue(lrDecay),
                Beta1 = parse.GetValue(beta1) ?? recipe.Beta1, Beta2 = parse.GetValue(beta2) ?? recipe.Beta2,
                ClipValue = parse.GetValue(clip) ?? recipe.ClipValue, EmaDecay = parse.GetValue(emaDecay), EmaRampup = parse.GetValue(emaRampup), CodeWeight = parse.GetValue(codeWeight),
                Augment = DiffAugment.Parse(parse.GetValue(augment)!), ClusterFeatures = parse.GetValue(clusterFeatures), InitFrom = parse.GetValue(initFrom),
                GeneratorClassesFromData = parse.GetValue(generatorClasses)!.ToLowerInvariant() switch
                {
                    "uniform" => false,
                    "data" => true,
                    var other => throw new TrainerException($"--g-classes is '{other}'; choose uniform or data."),
                },
                LabelSmoothing = parse.GetValue(smoothing), LogEvery = parse.GetValue(logEvery),
                SampleEvery = parse.GetValue(sampleEvery), CheckpointEvery = parse.GetValue(checkpointEvery), KeepCheckpoints = parse.GetValue(keepCheckpoints),
                EvalEvery = parse.GetValue(evalEvery), EvalCount = parse.GetValue(evalCount),
                Convolutions = parse.GetValue(convolutions)!.ToLowerInvariant() switch
                {
                    "auto" => ConvolutionKernels.Auto,
                    "native" => ConvolutionKernels.Native,
                    "exact" => ConvolutionKernels.Exact,
                    var other => throw new TrainerException($"--convolutions is '{other}'; choose auto, native or exact."),
                },
            };
            options.Validate();
            using var evaluator = options.EvalEvery > 0 ? Evaluator.Open(folder, parse.GetValue(classifierOption), log: output) : null;
            var trainer = new GanTrainer(model, options, parse.GetValue(outOption)!, new FlagsWriter(output)) { Evaluator = evaluator, Device = device };
            trainer.Train(dataset, parse.GetValue(resume));
            return 0;
        }));
        return command;
    }

    /// <summary>An IDX folder as it is, or a folder of images resized and cropped; reports how fast images loaded.</summary>
    internal static ImageDataset LoadTrainingData(string folder, ValueRange range, int size, int channels, BadImagePolicy policy, TextWriter output)
    {
        if (!Directory.Exists(folder))
            throw new TrainerException($"Dataset folder '{folder}' does not exist. Run 'ganonnx-train data' to prepare MNIST and Fashion-MNIST, or point --data at a folder of IDX files or images.");
        if (!ImageFolderLoader.IsImageFolder(folder))
            return ImageDataset.LoadIdxFolder(folder, range);
        var (dataset, report) = ImageFolderLoader.Load(folder, size, channels, range, policy);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Loaded {report.Loaded} images from '{folder}' as {channels}×{size}×{size} in {report.Elapsed.TotalSeconds:F2} s ({report.ImagesPerSecond:F0} images/s), {dataset.ClassNames.Count} class(es)."));
        foreach (var skipped in report.Skipped) output.WriteLine($"skipped unreadable image: {skipped}");
        return dataset;
    }
}
