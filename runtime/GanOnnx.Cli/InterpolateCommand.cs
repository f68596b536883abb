using System.CommandLine;
using GanOnnx.Imaging;
using GanOnnx.Runtime;

namespace GanOnnx.Cli;

/// <summary><c>ganonnx interpolate</c>: a grid of interpolations between the latents of several seeds.</summary>
internal static class InterpolateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = GanOnnxCli.ModelOption();
        var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds (at least two); each row goes from one to the next.", Required = true };
        var index = new Option<long>("--index") { Description = "Which latent of each seed.", DefaultValueFactory = _ => 0 };
        var steps = new Option<int>("--steps") { Description = "Images per row, ends included (at least 2).", DefaultValueFactory = _ => 8 };
        var linear = new Option<bool>("--linear") { Description = "Linear instead of spherical interpolation." };
        var label = GanOnnxCli.ClassOption("Class (index or name) for a conditional model (default 0).");
        var outFile = new Option<string>("--out") { Description = "Image file to write: .png, .jpg or .webp.", Required = true };
        var command = new Command("interpolate", "Write a grid of spherical interpolations between seeds (one row per pair).")
        {
            model, seeds, index, steps, linear, label, outFile,
        };
        command.SetAction(parse => GanOnnxCli.Guarded(error, () =>
        {
            var seedList = ListOption.Longs("--seeds", parse.GetValue(seeds)!);
            if (seedList.Length < 2) throw new GanOnnxException($"--seeds has {seedList.Length} seed; give at least two.");
            var n = parse.GetValue(steps);
            if (n < 2) throw new GanOnnxException($"--steps is {n}; it must be at least 2.");
            var path = GanOnnxCli.ImagePath("--out", parse.GetValue(outFile)!);
            var latentIndex = parse.GetValue(index);
            if (latentIndex < 0) throw new GanOnnxException($"--index is {latentIndex}; it must be 0 or more.");
            using var session = GeneratorSession.Load(parse.GetValue(model)!);
            var c = session.Contract;
            var fixedLabel = GanOnnxCli.ResolveClass(session, parse.GetValue(label));

            var rows = seedList.Length - 1;
            ImageGrid.CheckWritable(ImageEncoder.FormatOf(path), (long)rows * n, c.Width, c.Height, columns: n); // before any image is made
            var latents = new float[rows * n * c.LatentDim];
            for (var r = 0; r < rows; r++)
            {
                var a = session.Sampler.Sample(seedList[r], latentIndex);
                var b = session.Sampler.Sample(seedList[r + 1], latentIndex);
                for (var s = 0; s < n; s++)
                {
                    var t = s / (float)(n - 1);
                    var destination = latents.AsSpan((r * n + s) * c.LatentDim, c.LatentDim);
                    if (parse.GetValue(linear)) LatentSampler.Lerp(a, b, t, destination);
                    else LatentSampler.Slerp(a, b, t, destination);
                }
            }
            if (fixedLabel is { } latentClass && c.LatentClasses > 0) session.PlaceInLatentClass(latents, latentClass);
            long[]? labels = c.IsConditional ? Enumerable.Repeat((long)(fixedLabel ?? 0), rows * n).ToArray() : null;
            var images = session.GenerateFromLatents(latents, labels);
            ImageGrid.Save(images, path, columns: n);
            output.WriteLine($"Wrote {path}: {rows} row(s) × {n} images, {(parse.GetValue(linear) ? "linear" : "spherical")} interpolation between seeds {string.Join(" → ", seedList)}.");
            return 0;
        }));
        return command;
    }
}
