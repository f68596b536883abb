namespace GanOnnx.Trainer.Cli;

/// <summary><c>ganonnx-train classifier</c>: the evaluation classifier of a dataset.</summary>
internal static class ClassifierCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var data = new Option<string>("--data") { Description = "IDX folder with train and t10k files.", Required = true };
        var outOption = new Option<string?>("--out") { Description = "Where to save it (default: the data folder's classifier.gockpt)." };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 3 };
        var command = new Command("classifier", "Train the evaluation classifier of a dataset (eval trains one when missing).") { data, outOption, epochs };
        command.SetAction(parse => TrainerCli.Guarded(error, () =>
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
}
