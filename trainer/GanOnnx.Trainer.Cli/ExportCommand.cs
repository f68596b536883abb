using System.Globalization;
using GanOnnx.Diagnostics;

namespace GanOnnx.Trainer.Cli;

/// <summary><c>ganonnx-train export</c>: a checkpoint's generator to ONNX with the contract's metadata.</summary>
internal static class ExportCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint written by 'train'.", Required = true };
        var outOption = new Option<string>("--out") { Description = "ONNX file to write.", Required = true };
        var opset = new Option<int>("--opset") { Description = $"ONNX opset ({ExportOptions.MinOpset}–{ExportOptions.MaxOpset}).", DefaultValueFactory = _ => 17 };
        var ema = new Option<bool>("--ema") { Description = "Export the exponential moving average of the generator's weights." };
        var fp16 = new Option<bool>("--fp16") { Description = "Float16 weights and compute, float32 inputs and outputs." };
        var quality = new Option<string?>("--quality") { Description = "JSON written by 'eval --json': recorded as the model's measured quality." };
        var command = new Command("export", "Export a checkpoint's generator to ONNX with the model contract's metadata.") { checkpoint, outOption, opset, ema, fp16, quality };
        command.SetAction(parse => TrainerCli.Guarded(error, () =>
        {
            var path = parse.GetValue(checkpoint)!;
            var ckpt = Checkpoint.Load(path);
            var useEma = parse.GetValue(ema);
            using var generator = ckpt.LoadGenerator(path, useEma ? "generator_ema" : "generator");
            var options = new ExportOptions
            {
                Opset = parse.GetValue(opset), Dataset = ckpt.Info.Dataset, ClassNames = ckpt.Info.ClassNames,
                Loss = ckpt.Info.Loss, TrainingSteps = ckpt.Info.Step, Ema = useEma, Fp16 = parse.GetValue(fp16),
                Quality = parse.GetValue(quality) is { } q ? TrainerCli.ReadQuality(q) : new Dictionary<string, double>(),
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
}
