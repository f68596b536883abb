using System.CommandLine;
using System.Globalization;
using GanOnnx.Imaging;
using GanOnnx.Runtime;

namespace GanOnnx.Cli;

/// <summary>The <c>ganonnx</c> command line: generate, info, bench, interpolate. Exit code 0 on success, 1 on any failure.</summary>
public static class GanOnnxCli
{
    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("ganonnx: generate images from GAN generators exported to ONNX.")
        {
            GenerateCommand(output, error),
            InfoCommand(output, error),
            BenchCommand.Create(output, error),
            InterpolateCommand.Create(output, error),
            DoctorCommand.Create(output, error),
            DumpCommand.Create(output, error),
        };
        return CommandLineRun.Invoke(root, args, "ganonnx", output, error);
    }

    internal static int Guarded(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is GanOnnxException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            var message = ex is GanOnnxException ? ExportFlags.Aggregate(ex.Message, (text, flag) => text.Replace(flag.Key, flag.Value, StringComparison.Ordinal)) : ex.Message;
            error.WriteLine($"error: {message}");
            return 1;
        }
    }

    /// <summary>The flag of <c>generate</c> for each <see cref="BatchExportOptions"/> property the library's messages name.</summary>
    private static readonly Dictionary<string, string> ExportFlags = new()
    {
        ["BatchExportOptions.Count"] = "--count",
        ["BatchExportOptions.StartIndex"] = "--start-index",
        ["BatchExportOptions.Quality"] = "--quality",
        ["BatchExportOptions.PngCompression"] = "--png-compression",
        ["BatchExportOptions.EncoderThreads"] = "--threads",
        ["BatchExportOptions.InferenceWorkers"] = "--inference-workers",
        ["BatchExportOptions.Folder"] = "--out",
        ["BatchExportOptions.Overwrite"] = "--overwrite",
        ["BatchExportOptions.ClassIndex"] = "--class",
    };

    /// <summary>The command line's flag for each <see cref="GeneratorOptions"/> property its commands set.</summary>
    private static readonly Dictionary<string, string> Flags = new()
    {
        [nameof(GeneratorOptions.MaxBatchSize)] = "--batch-size",
        [nameof(GeneratorOptions.Truncation)] = "--truncation",
        [nameof(GeneratorOptions.IntraOpThreads)] = "--intra-op-threads",
        [nameof(GeneratorOptions.Provider)] = "--provider",
        [nameof(GeneratorOptions.CudaGraph)] = "--cuda-graph",
        [nameof(GeneratorOptions.CudaLibraryFolders)] = "--cuda-path",
    };

    /// <summary>Validates <paramref name="options"/>, naming this command line's flags instead of the library's property names.</summary>
    internal static GeneratorOptions Checked(GeneratorOptions options)
    {
        try
        {
            options.Validate();
            return options;
        }
        catch (GanOnnxException ex)
        {
            var message = Flags.Aggregate(ex.Message, (text, flag) => text.Replace(flag.Key, flag.Value, StringComparison.Ordinal));
            throw new GanOnnxException(message, ex);
        }
    }

    internal static Option<string> ModelOption() => new("--model") { Description = "The generator's ONNX file.", Required = true };

    internal static Option<string> ProviderOption() => new("--provider")
    {
        Description = "Execution provider: auto, cpu, cuda or directml.",
        DefaultValueFactory = _ => "cpu",
    };

    internal static Option<string?> CudaPathOption() => new("--cuda-path")
    {
        Description = $"Folders of CUDA/cuDNN libraries to load before ONNX Runtime asks for them, separated by '{Path.PathSeparator}' (a CUDA toolkit's lib64, a Python environment's site-packages/nvidia); {GanOnnx.Runtime.Cuda.CudaPreflight.PathVariable} adds more.",
    };

    /// <summary>The CUDA math and layout flags that generate, dump and bench share.</summary>
    internal sealed record CudaTuning(Option<bool> NoTf32, Option<bool> Nhwc, Option<bool> Heuristic)
    {
        public static CudaTuning Create() => new(
            new Option<bool>("--no-tf32") { Description = "CUDA: full float32 instead of TF32 tensor cores for convolutions and matrix products (slower; images within 1e-6 of the CPU's)." },
            new Option<bool>("--cuda-nhwc") { Description = "CUDA: run convolutions in NHWC layout where ONNX Runtime has NHWC kernels (prefer_nhwc)." },
            new Option<bool>("--cudnn-heuristic") { Description = "CUDA: pick cuDNN convolution algorithms by heuristic instead of timing them all at the first run." });

        /// <summary>Adds the flags to <paramref name="command"/>.</summary>
        public void AddTo(Command command)
        {
            command.Options.Add(NoTf32);
            command.Options.Add(Nhwc);
            command.Options.Add(Heuristic);
        }

        /// <summary><paramref name="options"/> with the flags of <paramref name="parse"/> applied.</summary>
        public GeneratorOptions Apply(ParseResult parse, GeneratorOptions options) => options with
        {
            CudaTf32 = !parse.GetValue(NoTf32), CudaPreferNhwc = parse.GetValue(Nhwc), CudnnExhaustiveSearch = !parse.GetValue(Heuristic),
        };
    }

    internal static Option<string> SubPixelOption() => new("--subpixel")
    {
        Description = "Run ConvTranspose layers as convolutions: a DCGAN's last two upsampling layers and the Keras DCGAN's upsample-then-ConvTranspose as sub-pixel convolutions (same images up to float32 rounding; on the CPU ≈ 1.6× faster for mnist-dcgan, ≈ 2.2× for mnist-keras-dcgan): auto (the CPU only), on or off.",
        DefaultValueFactory = _ => "auto",
    };

    internal static SubPixelMode ParseSubPixel(string text) => text.ToLowerInvariant() switch
    {
        "auto" => SubPixelMode.Auto,
        "on" => SubPixelMode.On,
        "off" => SubPixelMode.Off,
        _ => throw new GanOnnxException($"--subpixel is '{text}'; choose auto, on or off."),
    };

    internal static Option<bool> CudaGraphOption() => new("--cuda-graph") { Description = "CUDA: capture and replay a CUDA graph per batch size." };

    internal static IReadOnlyList<string> ParseFolders(string? text) =>
        (text ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

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
        var count = new Option<long?>("--count") { Description = "Number of images in the whole job (default 16)." };
        var perClass = new Option<long?>("--per-class") { Description = "Conditional models: this many images of every class (sets --count)." };
        var seed = new Option<long>("--seed") { Description = "Seed: image k of seed s is the same on every machine.", DefaultValueFactory = _ => 42 };
        var start = new Option<long>("--start-index") { Description = "Index of the first image.", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { Description = "Output folder.", Required = true };
        var format = new Option<string>("--format") { Description = "png, jpeg or webp.", DefaultValueFactory = _ => "png" };
        var quality = new Option<int>("--quality") { Description = "JPEG/WebP quality 1–100.", DefaultValueFactory = _ => 95 };
        var pngCompression = new Option<string>("--png-compression") { Description = "PNG: small (compressed, the smallest files) or none (stored: ≈ 6× faster to encode, ≈ 2.5× the bytes). Lossless either way.", DefaultValueFactory = _ => "small" };
        var noGrid = new Option<bool>("--no-grid") { Description = "Do not write grid.png." };
        var gridLabels = new Option<bool>("--grid-labels") { Description = "Caption the grid's tiles with class names (or indices)." };
        var label = ClassOption("Class (index or name) for every image of a conditional model (default: balanced), or the latent class of a self-conditioned or InfoGAN model (default: the model's own mix).");
        var batch = new Option<int>("--batch-size") { Description = "Images per inference call.", DefaultValueFactory = _ => 64 };
        var truncation = new Option<float>("--truncation") { Description = "Truncation ψ in (0, 1] (1 = none).", DefaultValueFactory = _ => 1f };
        var shard = new Option<string?>("--shard") { Description = "Write only shard i/n of the job (e.g. 0/4); default: JOB_COMPLETION_INDEX with --shards, else all." };
        var shards = new Option<int?>("--shards") { Description = "Number of shards when the index comes from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)." };
        var threads = new Option<int>("--threads") { Description = "Threads of the pipeline: encoders, and on the CPU the inference workers (default: the processor count).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var quiet = new Option<bool>("--quiet") { Description = "No progress output." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace files of this job that another model or other options made (default: refuse)." };
        var workers = new Option<int?>("--inference-workers") { Description = "Inference calls run at once, each on its own batches (default: see --threads)." };
        var intraOp = new Option<int?>("--intra-op-threads") { Description = "ONNX Runtime threads inside one call, 0 = one per physical core (default: see --threads)." };
        var provider = ProviderOption();
        var cudaPath = CudaPathOption();
        var cudaGraph = CudaGraphOption();
        var cudaTuning = CudaTuning.Create();
        var subPixel = SubPixelOption();
        var command = new Command("generate", "Write images (PNG/JPEG/WebP), a manifest and a grid from a generator; resumable and shardable.")
        {
            model, count, perClass, seed, start, outDir, format, quality, pngCompression, noGrid, gridLabels, label, batch, truncation, shard, shards, threads, quiet, overwrite, workers, intraOp, provider, cudaPath, cudaGraph, subPixel,
        };
        cudaTuning.AddTo(command);
        command.SetAction(parse => Guarded(error, () =>
        {
            var fileFormat = ParseFormat(parse.GetValue(format)!);
            var png = ParsePngCompression(parse.GetValue(pngCompression)!);
            if (fileFormat != ImageFileFormat.Png && parse.GetResult(pngCompression) is { Implicit: false })
                throw new GanOnnxException($"--png-compression applies to PNG files; --format is {parse.GetValue(format)}.");
            if (parse.GetValue(noGrid) && parse.GetValue(gridLabels))
                throw new GanOnnxException("--grid-labels captions grid.png, and --no-grid writes none; give one of them.");
            var providerChoice = ParseProvider(parse.GetValue(provider)!);
            if (parse.GetValue(threads) is < 1 or > 256) throw new GanOnnxException($"--threads is {parse.GetValue(threads)}; it must be between 1 and 256.");
            var pipeline = ExportPipeline.For(providerChoice, parse.GetValue(threads));
            pipeline = pipeline with
            {
                InferenceWorkers = parse.GetValue(workers) ?? pipeline.InferenceWorkers,
                IntraOpThreads = parse.GetValue(intraOp) ?? pipeline.IntraOpThreads,
            };
            var options = Checked(cudaTuning.Apply(parse, pipeline.Apply(new GeneratorOptions
            {
                Provider = providerChoice, MaxBatchSize = parse.GetValue(batch), Truncation = parse.GetValue(truncation),
                CudaLibraryFolders = ParseFolders(parse.GetValue(cudaPath)), CudaGraph = parse.GetValue(cudaGraph),
                SubPixel = ParseSubPixel(parse.GetValue(subPixel)!),
            })));
            var shardText = parse.GetValue(shard);
            var selected = shardText is not null ? Shard.Parse(shardText, "--shard") : Shard.FromEnvironment(parse.GetValue(shards), countName: "--shards N") ?? Shard.All;

            using var session = GeneratorSession.Load(parse.GetValue(model)!, options);
            var total = parse.GetValue(count);
            if (parse.GetValue(perClass) is { } k)
            {
                if (!session.Contract.IsConditional) throw new GanOnnxException($"--per-class was given but '{session.Source}' is unconditional.");
                if (k < 1) throw new GanOnnxException($"--per-class is {k}; it must be at least 1.");
                if (total is not null) throw new GanOnnxException("--per-class sets the count; do not also give --count.");
                if (parse.GetValue(label) is not null) throw new GanOnnxException("--per-class writes every class; do not also give --class.");
                if (k > long.MaxValue / session.Contract.NumClasses)
                    throw new GanOnnxException($"--per-class is {k}; {session.Contract.NumClasses} classes of that many images are more than {long.MaxValue} images.");
                total = k * session.Contract.NumClasses;
            }
            var export = new BatchExportOptions
            {
                Count = total ?? 16, Seed = parse.GetValue(seed), StartIndex = parse.GetValue(start), Folder = parse.GetValue(outDir)!,
                Format = fileFormat, Quality = parse.GetValue(quality), PngCompression = png, Shard = selected, ClassIndex = ResolveClass(session, parse.GetValue(label)),
                Grid = !parse.GetValue(noGrid), GridLabels = parse.GetValue(gridLabels),
                EncoderThreads = pipeline.EncoderThreads, InferenceWorkers = pipeline.InferenceWorkers, Overwrite = parse.GetValue(overwrite),
            };
            export.Validate();
            using var printer = parse.GetValue(quiet) ? null : new ProgressPrinter(error);
            var result = BatchExporter.RunAsync(session, export, printer).GetAwaiter().GetResult();
            printer?.Finish();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Wrote {result.Written} {fileFormat.ToString().ToUpperInvariant()} images ({session.Contract.Channels}×{session.Contract.Height}×{session.Contract.Width}) to {export.Folder}" +
                $"{(result.Skipped > 0 ? $", {result.Skipped} already there" : "")}{(selected.Count > 1 ? $", shard {selected}" : "")} in {result.Elapsed.TotalSeconds:F2} s " +
                $"({result.ImagesPerSecond:F0} images/s; inference {result.InferenceTime.TotalSeconds:F2} s, encoding {result.EncodeTime.TotalSeconds:F2} s across threads) on {session.ProviderReport}"));
            return 0;
        }));
        return command;
    }

    /// <summary>The --class option: a class index, or a class name of the model (<c>--class Flags</c>).</summary>
    internal static Option<string?> ClassOption(string description) => new("--class") { Description = description };

    /// <summary>
    /// The class index a --class value asks for: a number is an index, anything else a class name of the model (any case);
    /// null when none was given. Refuses what the model cannot take (<see cref="GeneratorSession.DescribeClassProblem"/>),
    /// naming the model's classes when the name is not one of them.
    /// </summary>
    internal static int? ResolveClass(GeneratorSession session, string? text)
    {
        if (text is null) return null;
        var c = session.Contract;
        var index = c.ParseClass(text);
        if (index is null)
        {
            if (c.ClassNames.Count == 0 && session.DescribeClassProblem(0) is { } none) throw new GanOnnxException($"--class: {none}");
            var names = c.ClassNames.Count == 0
                ? "this model's classes have no names; give an index"
                : "its classes are " + string.Join(", ", c.ClassNames.Select((name, i) => $"{i} {name}"));
            throw new GanOnnxException($"--class is '{text}': not a class index nor a class name of '{session.Source}'; {names}.");
        }
        if (session.DescribeClassProblem(index.Value) is { } problem) throw new GanOnnxException($"--class: {problem}");
        return index;
    }

    /// <summary>
    /// Checks, before any work, that an image file name given to <paramref name="flag"/> ends in an extension the encoder
    /// writes (.png, .jpg, .jpeg, .webp, or none for PNG), so that no file is written in a format its name does not say.
    /// </summary>
    internal static string ImagePath(string flag, string path)
    {
        // Up front: the images are made before they are saved, and a folder would be found out only then.
        if (Directory.Exists(path) || Path.EndsInDirectorySeparator(path))
            throw new GanOnnxException($"{flag}: '{path}' is a folder; give the name of the image file to write (for example '{Path.Combine(path, "grid.png")}').");
        try
        {
            ImageEncoder.FormatOf(path);
            return path;
        }
        catch (ArgumentException ex)
        {
            throw new GanOnnxException($"{flag}: {ex.Message}");
        }
    }

    internal static PngCompression ParsePngCompression(string text) => text.ToLowerInvariant() switch
    {
        "small" => PngCompression.Small,
        "none" => PngCompression.None,
        _ => throw new GanOnnxException($"--png-compression is '{text}'; choose small or none."),
    };

    internal static ImageFileFormat ParseFormat(string text) => text.ToLowerInvariant() switch
    {
        "png" => ImageFileFormat.Png,
        "jpeg" or "jpg" => ImageFileFormat.Jpeg,
        "webp" => ImageFileFormat.Webp,
        _ => throw new GanOnnxException($"--format is '{text}'; choose png, jpeg or webp."),
    };

    private static Command InfoCommand(TextWriter output, TextWriter error)
    {
        var model = ModelOption();
        var provider = ProviderOption();
        var cudaPath = CudaPathOption();
        var subPixel = SubPixelOption();
        var command = new Command("info", "Print a generator's contract and the providers this machine offers.") { model, provider, cudaPath, subPixel };
        command.SetAction(parse => Guarded(error, () =>
        {
            using var session = GeneratorSession.Load(parse.GetValue(model)!, new GeneratorOptions
            {
                Provider = ParseProvider(parse.GetValue(provider)!), CudaLibraryFolders = ParseFolders(parse.GetValue(cudaPath)),
                SubPixel = ParseSubPixel(parse.GetValue(subPixel)!),
            });
            var c = session.Contract;
            output.WriteLine($"model:        {session.Source}");
            var b = c.FixedBatchSize?.ToString(CultureInfo.InvariantCulture) ?? "batch";
            output.WriteLine($"inputs:       {c.LatentInputName}: float32[{b}, {c.LatentDim}]{(c.LabelInputName is null ? "" : $"; {c.LabelInputName}: int64[{b}]")}");
            output.WriteLine($"output:       {c.ImageOutputName}: float32[{b}, {c.Channels}, {c.Height}, {c.Width}]");
            output.WriteLine($"batch:        {(c.FixedBatchSize is { } fixedBatch ? $"fixed at {fixedBatch} by the graph: every call runs {fixedBatch} images (--batch-size is ignored)" : "symbolic (any batch size)")}");
            output.WriteLine($"latent:       {c.LatentDim} × {ModelMetadataKeys.Format(c.LatentDistribution)}");
            output.WriteLine($"value range:  [{c.ValueRange.Min}, {c.ValueRange.Max}]");
            output.WriteLine($"classes:      {(c.IsConditional ? $"{c.NumClasses} ({string.Join(", ", c.ClassNames)}){(c.UntruncatedLatents > 0 ? "; the latent's first value picks a cluster within the class" : "")}" : c.LatentClasses > 0 ? $"none (unconditional; the latent's first value picks one of {c.LatentClasses} latent classes)" : "none (unconditional)")}");
            output.WriteLine($"architecture: {c.Architecture ?? "(unknown)"}, loss {c.Loss ?? "(unknown)"}, dataset {c.Dataset ?? "(unknown)"}, steps {c.TrainingSteps?.ToString(CultureInfo.InvariantCulture) ?? "(unknown)"}, ema {(c.IsEma ? "yes" : "no")}");
            output.WriteLine($"quality:      {(c.Quality.Count == 0 ? "(not measured)" : string.Join(", ", c.Quality.Select(kv => $"{kv.Key} {FormatScore(kv.Value)}")))}");
            output.WriteLine($"contract:     {(c.InferredFromShapes ? "inferred from shapes (no GanOnnx metadata)" : "from metadata")}");
            output.WriteLine($"provider:     {session.ProviderReport}");
            output.WriteLine($"sub-pixel:    {(session.SubPixelRewrites > 0
                ? $"on: {session.SubPixelRewrites} ConvTranspose layers run as (sub-pixel) convolutions (--subpixel off runs the model's own graph)"
                : !session.Options.UsesSubPixel(session.Provider)
                    ? $"off (--subpixel {session.Options.SubPixel.ToString().ToLowerInvariant()} on {session.Provider})"
                    : "off: the model has no ConvTranspose layer the rewrite takes (see --help)")}");
            output.WriteLine(GeneratorOptions.AutomaticIntraOpThreads > 0
                ? $"cpu threads:  {GeneratorOptions.AutomaticIntraOpThreads} per inference call by default (one per physical core, within this process's CPU limit of {Environment.ProcessorCount})"
                : "cpu threads:  ONNX Runtime's own default per inference call");
            output.WriteLine($"available:    {string.Join(", ", GeneratorSession.AvailableProviders())}");
            return 0;
        }));
        return command;
    }

    /// <summary>A recorded score as people read it: counts whole (10000, not 1E+04), the rest to four significant digits.</summary>
    internal static string FormatScore(double value) =>
        double.IsFinite(value) && value == Math.Floor(value) && Math.Abs(value) < 1e15
            ? value.ToString("F0", CultureInfo.InvariantCulture)
            : value.ToString("G4", CultureInfo.InvariantCulture);
}
