namespace GanOnnx.Trainer.Cli;

/// <summary><c>ganonnx-train average</c>: the uniform average of a generator over several checkpoints of one run.</summary>
internal static class AverageCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var checkpoints = new Argument<string[]>("checkpoints") { Description = "Two or more checkpoints of one run (for example runs/x/checkpoints/step-05*.gockpt, kept by --keep-checkpoints).", Arity = ArgumentArity.OneOrMore };
        var outOption = new Option<string>("--out") { Description = "Checkpoint to write: the averaged generator only (for 'eval' and 'export'; not resumable).", Required = true };
        var ema = new Option<bool>("--ema") { Description = "Average the EMA weights (what 'export --ema' exports); without it, the raw generator's." };
        var data = new Option<string?>("--data") { Description = "The run's training data: needed only for a run trained with --g-classes data (its BatchNorm statistics follow the data's class mix)." };
        var command = new Command("average", "Average a generator's weights over checkpoints of one run (a longer weight average chosen after training); BatchNorm statistics are recomputed.")
        {
            checkpoints, outOption, ema, data,
        };
        command.SetAction(parse => TrainerCli.Guarded(error, () =>
        {
            var section = parse.GetValue(ema) ? "generator_ema" : "generator";
            var paths = parse.GetValue(checkpoints)!;
            using var dataset = parse.GetValue(data) is { } folder ? LoadData(folder, paths[0], output) : null;
            var averaged = CheckpointAverage.Average(paths, section, dataset?.Labels);
            var outPath = parse.GetValue(outOption)!;
            averaged.Save(outPath);
            output.WriteLine($"Wrote {outPath}: the '{section}' weights averaged over {averaged.Info.Extra[CheckpointAverage.AveragedFromKey]}, BatchNorm statistics recomputed.");
            var emaFlag = parse.GetValue(ema) ? " --ema" : "";
            output.WriteLine($"  score it:  ganonnx-train eval --checkpoint {outPath}{emaFlag} --data …");
            output.WriteLine($"  export it: ganonnx-train export --checkpoint {outPath}{emaFlag} --out model.onnx");
            return 0;
        }));
        return command;
    }

    /// <summary>The run's training data, loaded in the shape of the model of <paramref name="checkpoint"/>.</summary>
    private static ImageDataset LoadData(string folder, string checkpoint, TextWriter output)
    {
        var model = Checkpoint.LoadHeader(checkpoint).Model;
        return TrainCommand.LoadTrainingData(folder, model.ValueRange, model.ImageSize, model.Channels, BadImagePolicy.Fail, output);
    }
}
