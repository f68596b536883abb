using GanOnnx.Diagnostics;
using GanOnnx.Imaging;

namespace GanOnnx.Trainer.Cli;

/// <summary><c>ganonnx-train plot</c>: a run's losses as an image.</summary>
internal static class PlotCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var run = new Option<string>("--run") { Description = "A training output folder (with metrics.jsonl).", Required = true };
        var outOption = new Option<string?>("--out") { Description = "Image to write: .png, .jpg or .webp (default: losses.png in the run folder)." };
        var command = new Command("plot", "Plot a run's losses and discriminator outputs as a PNG.") { run, outOption };
        command.SetAction(parse => TrainerCli.Guarded(error, () =>
        {
            var path = parse.GetValue(outOption) ?? Path.Combine(parse.GetValue(run)!, "losses.png");
            try
            {
                ImageEncoder.FormatOf(path);
            }
            catch (ArgumentException ex)
            {
                throw new TrainerException($"--out: {ex.Message}");
            }
            var folder = parse.GetValue(run)!;
            var metricsPath = Path.Combine(folder, "metrics.jsonl");
            if (!File.Exists(metricsPath)) throw new TrainerException($"'{folder}' has no metrics.jsonl; is it a training output folder?");
            var lines = StepMetrics.ReadAll(metricsPath);
            if (!MetricsPlot.Save(lines, path)) throw new TrainerException($"'{metricsPath}' has {lines.Count} logged step(s); a plot needs at least two.");
            output.WriteLine($"Wrote {path} ({lines.Count} logged steps).");
            return 0;
        }));
        return command;
    }
}
