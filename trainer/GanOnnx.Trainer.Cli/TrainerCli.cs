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
            BenchCommand.Create(output, error),
            ClassifierCommand.Create(output, error),
            EvalCommand.Create(output, error),
            RecordQualityCommand.Create(output, error),
            PlotCommand.Create(output, error),
            BenchTrainCommand.Create(output, error),
        };
        var parse = root.Parse(args);
        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    internal static int Guarded(TextWriter error, Func<int> action)
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

    /// <summary>The folder beside this program that holds the classifiers of models/classifiers (`data` installs them).</summary>
    public static string ShippedClassifiers => Path.Combine(AppContext.BaseDirectory, "classifiers");

    /// <summary>Gives a prepared data folder the shipped classifier of its dataset, when there is one and it fits.</summary>
    internal static void InstallShippedClassifier(TextWriter output, string dataFolder)
    {
        var shipped = Path.Combine(ShippedClassifiers, Path.GetFileName(dataFolder) + ".gockpt");
        if (File.Exists(shipped)) output.WriteLine($"  {Evaluator.InstallClassifier(dataFolder, shipped)}");
    }

    internal static readonly System.Text.Json.JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    internal static Dictionary<string, double> ReadQuality(string path)
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
}
