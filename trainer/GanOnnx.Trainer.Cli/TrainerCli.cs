namespace GanOnnx.Trainer.Cli;

/// <summary>
/// The <c>ganonnx-train</c> command line: one file per command (<c>*Command.cs</c>) and the helpers they share. Exit code 0
/// on success, 1 on any failure.
/// </summary>
public static class TrainerCli
{
    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("ganonnx-train: train GAN generators with TorchSharp and export them to ONNX.")
        {
            DataCommand.Create(output, error),
            TrainCommand.Create(output, error),
            ExportCommand.Create(output, error),
            AverageCommand.Create(output, error),
            BenchCommand.Create(output, error),
            ClassifierCommand.Create(output, error),
            EvalCommand.Create(output, error),
            RecordQualityCommand.Create(output, error),
            PlotCommand.Create(output, error),
            BenchTrainCommand.Create(output, error),
        };
        return CommandLineRun.Invoke(root, args, "ganonnx-train", output, error);
    }

    internal static int Guarded(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is TrainerException or GanOnnxException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {WithFlags(ex.Message)}");
            return 1;
        }
    }

    /// <summary>The library's messages name properties (TrainingOptions.Steps); the command line says its flags (--steps).</summary>
    internal static string WithFlags(string message) =>
        Flags.Aggregate(message, (text, flag) => text.Replace(flag.Key, flag.Value, StringComparison.Ordinal));

    /// <summary>Longest names first, so that a name is never replaced inside a longer one.</summary>
    private static readonly KeyValuePair<string, string>[] Flags = new Dictionary<string, string>
    {
        ["TrainingOptions.Steps"] = "--steps",
        ["TrainingOptions.BatchSize"] = "--batch-size",
        ["TrainingOptions.GeneratorClassesFromData"] = "--g-classes",
        ["TrainingOptions.LearningRateG"] = "--lr-g",
        ["TrainingOptions.LearningRateD"] = "--lr-d",
        ["TrainingOptions.LearningRateDecayAt"] = "--lr-decay-at",
        ["TrainingOptions.LearningRateDecay"] = "--lr-decay",
        ["TrainingOptions.Beta1"] = "--beta1",
        ["TrainingOptions.Beta2"] = "--beta2",
        ["TrainingOptions.ClipValue"] = "--clip",
        ["TrainingOptions.LabelSmoothing"] = "--label-smoothing",
        ["TrainingOptions.Augment"] = "--augment",
        ["TrainingOptions.Loss"] = "--loss",
        ["TrainingOptions.CriticSteps"] = "--critic-steps",
        ["TrainingOptions.GradientPenaltyWeight"] = "--gp-weight",
        ["TrainingOptions.CodeWeight"] = "--code-weight",
        ["TrainingOptions.R1Weight"] = "--r1",
        ["TrainingOptions.R1Every"] = "--r1-every",
        ["TrainingOptions.ConsistencyWeight"] = "--consistency",
        ["TrainingOptions.TopK"] = "--top-k",
        ["TrainingOptions.EmaDecay"] = "--ema-decay",
        ["TrainingOptions.EmaRampup"] = "--ema-rampup",
        ["TrainingOptions.ClusterFeatures"] = "--cluster-features",
        ["TrainingOptions.InitFrom"] = "--init-from",
        ["TrainingOptions.LogEvery"] = "--log-every",
        ["TrainingOptions.SampleEvery"] = "--sample-every",
        ["TrainingOptions.CheckpointEvery"] = "--checkpoint-every",
        ["TrainingOptions.EvalEvery"] = "--eval-every",
        ["TrainingOptions.EvalCount"] = "--eval-count",
        ["TrainingOptions.SampleCount"] = "--sample-count",
        ["TrainingOptions.KeepCheckpoints"] = "--keep-checkpoints",
        ["ModelConfig.LatentClasses (clustered)"] = "--clusters",
        ["ModelConfig.Projection"] = "--projection",
        ["ModelConfig.DiscriminatorDropout"] = "--d-dropout",
        ["ModelConfig.DiscriminatorWidth"] = "--d-width",
        ["ModelConfig.GeneratorDepth"] = "--g-depth",
        ["ModelConfig.MinibatchStdGroup"] = "--minibatch-std",
        ["ModelConfig.AuxiliaryClassifier"] = "--aux-classifier",
        ["ModelConfig.NumClasses"] = "--conditional",
        ["ModelConfig.LatentClasses"] = "--latent-classes",
        ["ModelConfig.Clustered"] = "--clusters",
        ["GanTrainer.Device"] = "--device",
        [$"{nameof(GeneratorOptions.Truncation)} is"] = "--truncation is",
        ["Classifier epochs"] = "--epochs",
        ["The image size"] = "--image-size",
        ["The channel count"] = "--channels",
        ["skip them (BadImagePolicy.Skip)"] = "pass --on-bad-image skip",
    }.OrderByDescending(kv => kv.Key.Length).ToArray();

    /// <summary>The folder beside this program that holds the classifiers of models/classifiers (`data` installs them).</summary>
    public static string ShippedClassifiers => Path.Combine(AppContext.BaseDirectory, "classifiers");

    /// <summary>--on-bad-image: fail or skip.</summary>
    internal static BadImagePolicy ParseBadImagePolicy(string text) => text.ToLowerInvariant() switch
    {
        "fail" => BadImagePolicy.Fail,
        "skip" => BadImagePolicy.Skip,
        _ => throw new TrainerException($"--on-bad-image is '{text}'; choose fail or skip."),
    };

    /// <summary>Gives a prepared data folder the shipped classifier of its dataset, when there is one and it fits.</summary>
    internal static void InstallShippedClassifier(TextWriter output, string dataFolder)
    {
        var shipped = Path.Combine(ShippedClassifiers, Path.GetFileName(dataFolder) + ".gockpt");
        if (File.Exists(shipped)) output.WriteLine($"  {Evaluator.InstallClassifier(dataFolder, shipped)}");
    }

    internal static readonly System.Text.Json.JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    internal static Dictionary<string, double> ReadQuality(string path)
    {
        if (!File.Exists(path)) throw new TrainerException(MissingFile.Describe("Quality file", path, "*.json"));
        try
        {
            var scores = System.Text.Json.JsonSerializer.Deserialize<QualityScores>(File.ReadAllText(path))
                ?? throw new TrainerException($"Quality file '{path}' is empty.");
            if (scores.Truncation is { } psi && psi < 1)
                throw new TrainerException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"Quality file '{path}' scores images sampled with truncation ψ {psi} ('eval --truncation'); a model records the quality of its untruncated images: score it again without --truncation."));
            return scores.ToMetadata();
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new TrainerException($"Quality file '{path}' is not the JSON 'eval --json' writes: {ex.Message}", ex);
        }
    }
}
