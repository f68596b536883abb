using GanOnnx.Diagnostics;

namespace GanOnnx.Trainer.Cli;

/// <summary><c>ganonnx-train record-quality</c>: scores into an exported model's metadata.</summary>
internal static class RecordQualityCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "An ONNX file written by 'export'.", Required = true };
        var quality = new Option<string>("--quality") { Description = "JSON written by 'eval --json'.", Required = true };
        var command = new Command("record-quality", "Record the scores of 'eval --json' in an exported model's metadata (graph and weights unchanged).") { model, quality };
        command.SetAction(parse => TrainerCli.Guarded(error, () =>
        {
            var path = parse.GetValue(model)!;
            var scores = TrainerCli.ReadQuality(parse.GetValue(quality)!);
            var previous = OnnxExporter.RecordQuality(path, scores);
            output.WriteLine($"Recorded the quality of {path}");
            output.WriteLine($"  was: {previous}");
            output.WriteLine($"  now: {System.Text.Json.JsonSerializer.Serialize(scores)}");
            return 0;
        }));
        return command;
    }
}
