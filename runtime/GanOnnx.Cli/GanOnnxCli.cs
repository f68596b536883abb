using System.CommandLine;
using System.Globalization;
using GanOnnx.Imaging;
using GanOnnx.Runtime;

namespace GanOnnx.Cli;

/// <summary>The <c>ganonnx</c> command line: generate, info. Exit code 0 on success, 1 on any failure.</summary>
public static class GanOnnxCli
{
    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("ganonnx: generate images from GAN generators exported to ONNX.")
        {
            GenerateCommand(output, error),
            InfoCommand(output, error),
        };
        return root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    internal static int Guarded(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is GanOnnxException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }

    private static Option<string> ModelOption() => new("--model") { Description = "The generator's ONNX file.", Required = true };

    private static Option<string> ProviderOption() => new("--provider")
    {
        Description = "Execution provider: auto, cpu, cuda or directml.",
        DefaultValueFactory = _ => "cpu",
    };

    internal static ExecutionProvider ParseProvider(string text) => text.ToLowerInvariant() switch
    {
        "auto" => ExecutionProvider.Auto,
        "cpu" => ExecutionProvider.Cpu,
        "cuda" => ExecutionProvider.Cuda,
        "directml" or "dml" => ExecutionProvider.DirectMl,
        _ => throw new GanOnnxException($"--provider is '{text}'; choose auto, cpu, cuda or directml."),
    };

    private static Command GenerateCommand(TextWriter output, TextWriter error)
    {
        var model = ModelOption();
        var count = new Option<int>("--count") { Description = "Number of images.", DefaultValueFactory = _ => 16 };
        var seed = new Option<long>("--seed") { Description = "Seed: image k of seed s is the same on every machine.", DefaultValueFactory = _ => 42 };
        var start = new Option<long>("--start-index") { Description = "Index of the first image.", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { Description = "Output folder.", Required = true };
        var format = new Option<string>("--format") { Description = "png, jpeg or webp.", DefaultValueFactory = _ => "png" };
        var quality = new Option<int>("--quality") { Description = "JPEG/WebP quality 1–100.", DefaultValueFactory = _ => 95 };
        var grid = new Option<bool>("--no-grid") { Description = "Do not write grid.png." };
        var label = new Option<int?>("--class") { Description = "Class index for every image of a conditional model (default: balanced)." };
        var batch = new Option<int>("--batch-size") { Description = "Images per inference call.", DefaultValueFactory = _ => 64 };
        var provider = ProviderOption();
        var command = new Command("generate", "Write N images (and a grid) from a generator.")
        {
            model, count, seed, start, outDir, format, quality, grid, label, batch, provider,
        };
        command.SetAction(parse => Guarded(error, () =>
        {
            var n = parse.GetValue(count);
            if (n < 1) throw new GanOnnxException($"--count is {n}; it must be at least 1.");
            var first = parse.GetValue(start);
            if (first < 0) throw new GanOnnxException($"--start-index is {first}; it must be 0 or more.");
            var fileFormat = parse.GetValue(format)!.ToLowerInvariant() switch
            {
                "png" => ImageFileFormat.Png,
                "jpeg" or "jpg" => ImageFileFormat.Jpeg,
                "webp" => ImageFileFormat.Webp,
                var other => throw new GanOnnxException($"--format is '{other}'; choose png, jpeg or webp."),
            };
            var q = parse.GetValue(quality);
            if (q is < 1 or > 100) throw new GanOnnxException($"--quality is {q}; it must be between 1 and 100.");
            var options = new GeneratorOptions { Provider = ParseProvider(parse.GetValue(provider)!), MaxBatchSize = parse.GetValue(batch) };
            var folder = parse.GetValue(outDir)!;
            var s = parse.GetValue(seed);

            using var session = GeneratorSession.Load(parse.GetValue(model)!, options);
            var fixedLabel = parse.GetValue(label);
            if (fixedLabel is not null && !session.Contract.IsConditional)
                throw new GanOnnxException($"--class was given but '{session.Source}' is unconditional.");
            if (fixedLabel is { } l && (l < 0 || l >= session.Contract.NumClasses))
                throw new GanOnnxException($"--class is {l}; '{session.Source}' has classes 0 to {session.Contract.NumClasses - 1}.");
            Directory.CreateDirectory(folder);
            var digits = Math.Max(6, (first + n - 1).ToString(CultureInfo.InvariantCulture).Length);
            var extension = ImageEncoder.Extension(fileFormat);
            var started = DateTime.UtcNow;
            var written = 0;
            var chunk = Math.Max(options.MaxBatchSize, 1);
            for (long offset = 0; offset < n; offset += chunk)
            {
                var size = (int)Math.Min(chunk, n - offset);
                var images = session.Generate(size, s, first + offset, fixedLabel);
                for (var i = 0; i < size; i++)
                {
                    var index = first + offset + i;
                    var name = $"seed{s}-{index.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0')}{extension}";
                    ImageEncoder.Save(images, i, Path.Combine(folder, name), fileFormat, q);
                    written++;
                }
            }
            if (!parse.GetValue(grid))
            {
                var gridCount = Math.Min(n, 64);
                ImageGrid.Save(session.Generate(gridCount, s, first, fixedLabel), Path.Combine(folder, "grid.png"));
            }
            var seconds = (DateTime.UtcNow - started).TotalSeconds;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Wrote {written} {fileFormat.ToString().ToUpperInvariant()} images ({session.Contract.Channels}×{session.Contract.Height}×{session.Contract.Width}) to {folder} in {seconds:F2} s on {session.ProviderReport}"));
            return 0;
        }));
        return command;
    }

    private static Command InfoCommand(TextWriter output, TextWriter error)
    {
        var model = ModelOption();
        var provider = ProviderOption();
        var command = new Command("info", "Print a generator's contract and the providers this machine offers.") { model, provider };
        command.SetAction(parse => Guarded(error, () =>
        {
            using var session = GeneratorSession.Load(parse.GetValue(model)!, new GeneratorOptions { Provider = ParseProvider(parse.GetValue(provider)!) });
            var c = session.Contract;
            output.WriteLine($"model:        {session.Source}");
            output.WriteLine($"inputs:       {c.LatentInputName}: float32[batch, {c.LatentDim}]{(c.LabelInputName is null ? "" : $"; {c.LabelInputName}: int64[batch]")}");
            output.WriteLine($"output:       {c.ImageOutputName}: float32[batch, {c.Channels}, {c.Height}, {c.Width}]");
            output.WriteLine($"latent:       {c.LatentDim} × {c.LatentDistribution.ToString().ToLowerInvariant()}");
            output.WriteLine($"value range:  [{c.ValueRange.Min}, {c.ValueRange.Max}]");
            output.WriteLine($"classes:      {(c.IsConditional ? $"{c.NumClasses} ({string.Join(", ", c.ClassNames)})" : "none (unconditional)")}");
            output.WriteLine($"architecture: {c.Architecture ?? "(unknown)"}, loss {c.Loss ?? "(unknown)"}, dataset {c.Dataset ?? "(unknown)"}, steps {c.TrainingSteps?.ToString(CultureInfo.InvariantCulture) ?? "(unknown)"}, ema {c.IsEma}");
            output.WriteLine($"quality:      {(c.Quality.Count == 0 ? "(not measured)" : string.Join(", ", c.Quality.Select(kv => $"{kv.Key} {kv.Value.ToString("G4", CultureInfo.InvariantCulture)}")))}");
            output.WriteLine($"contract:     {(c.InferredFromShapes ? "inferred from shapes (no GanOnnx metadata)" : "from metadata")}");
            output.WriteLine($"provider:     {session.ProviderReport}");
            output.WriteLine($"available:    {string.Join(", ", GeneratorSession.AvailableProviders())}");
            return 0;
        }));
        return command;
    }
}
