using System.CommandLine;
using GanOnnx.Diagnostics;
using GanOnnx.Imaging;
using GanOnnx.Runtime;

namespace GanOnnx.Cli;

/// <summary>
/// <c>ganonnx bench</c>: latency and throughput per model × provider × CUDA graph × output × thread count × batch size,
/// beside plain ONNX Runtime by hand (<c>--peer</c>), and end to end to image files (<c>--files</c>).
/// </summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "The generator's ONNX file, or several separated by commas (e.g. its fp32 and fp16 exports).", Required = true };
        var providers = new Option<string>("--providers") { Description = "Comma-separated: cpu, cuda, directml, auto.", DefaultValueFactory = _ => "cpu" };
        var batches = new Option<string>("--batch-sizes") { Description = "Comma-separated batch sizes.", DefaultValueFactory = _ => "1,64,256" };
        var threads = new Option<string>("--threads") { Description = "Comma-separated intra-op thread counts (0 = automatic: GanOnnx's default, one per physical core, for its rows; ONNX Runtime's own default for the plain peer, as by hand).", DefaultValueFactory = _ => "0" };
        var outputs = new Option<string>("--outputs") { Description = "Comma-separated: float (the model's float32), uint8 (pixels mapped inside the graph), device (float32 left on the GPU; CUDA rows only).", DefaultValueFactory = _ => "float" };
        var cudaGraph = new Option<string>("--cuda-graph") { Description = "Comma-separated: off and/or on (CUDA graphs; CUDA rows only).", DefaultValueFactory = _ => "off" };
        var subPixel = new Option<string>("--subpixel") { Description = "Comma-separated: auto (the CPU only), on and/or off: GanOnnx's rows with a DCGAN's last two upsampling layers as sub-pixel convolutions or as the model has them.", DefaultValueFactory = _ => "auto" };
        var peer = new Option<bool>("--peer") { Description = "Also time plain ONNX Runtime by hand (InferenceSession.Run on a fixed tensor) on each provider." };
        var files = new Option<long>("--files") { Description = "Also write this many PNG files with 'generate' and compare with plain ONNX Runtime at the largest batch (0 = skip; generate runs with the first --subpixel mode).", DefaultValueFactory = _ => 0 };
        var filesPng = new Option<string>("--png-compression") { Description = "--files: small (compressed), none (stored) or both, comma-separated.", DefaultValueFactory = _ => "small" };
        var filesDir = new Option<string?>("--files-dir") { Description = "Where --files writes (in a new folder, deleted after; default: the system temporary folder)." };
        var duration = new Option<double>("--duration") { Description = "Seconds of timed calls per configuration.", DefaultValueFactory = _ => 3.0 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed calls before timing.", DefaultValueFactory = _ => 5 };
        var iterations = new Option<int>("--max-iterations") { Description = "Stop timing after this many calls.", DefaultValueFactory = _ => 10_000 };
        var json = new Option<string?>("--json") { Description = "Write the results (with every latency) as JSON." };
        var markdown = new Option<string?>("--markdown") { Description = "Write the results as a Markdown table." };
        var histogram = new Option<string?>("--histogram") { Description = "Write latency histograms as an image (.png, .jpg or .webp)." };
        var cudaPath = GanOnnxCli.CudaPathOption();
        var cudaTuning = GanOnnxCli.CudaTuning.Create();
        var command = new Command("bench", "Measure session creation, first run, latency percentiles, throughput and memory, beside plain ONNX Runtime.")
        {
            model, providers, batches, threads, outputs, cudaGraph, subPixel, peer, files, filesPng, filesDir, duration, warmup, iterations, json, markdown, histogram, cudaPath,
        };
        cudaTuning.AddTo(command);
        command.SetAction(parse => GanOnnxCli.Guarded(error, () =>
        {
            var paths = parse.GetValue(model)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var path in paths)
                if (!File.Exists(path)) throw new GanOnnxException(MissingFile.Describe("Model file", path, "*.onnx"));
            var plan = new BenchPlan
            {
                Models = paths,
                Providers = ListOption.Words("--providers", parse.GetValue(providers)!, ["cpu", "cuda", "directml", "dml", "auto"]).Select(GanOnnxCli.ParseProvider).Distinct().ToArray(),
                BatchSizes = ListOption.Ints("--batch-sizes", parse.GetValue(batches)!, 1, GeneratorOptions.BatchSizeLimit),
                ThreadCounts = ListOption.Ints("--threads", parse.GetValue(threads)!, 0),
                Outputs = ListOption.Words("--outputs", parse.GetValue(outputs)!, ["float", "uint8", "device"]),
                CudaGraphs = ListOption.Words("--cuda-graph", parse.GetValue(cudaGraph)!, ["off", "on"]).Select(w => w == "on").ToArray(),
                SubPixel = ListOption.Words("--subpixel", parse.GetValue(subPixel)!, ["auto", "on", "off"]).Select(GanOnnxCli.ParseSubPixel).Distinct().ToArray(),
                Peer = parse.GetValue(peer),
                CudaLibraryFolders = GanOnnxCli.ParseFolders(parse.GetValue(cudaPath)),
                Tuning = cudaTuning.Apply(parse, new GeneratorOptions()),
                Settings = new BenchmarkSettings
                {
                    Duration = TimeSpan.FromSeconds(parse.GetValue(duration)), WarmupIterations = parse.GetValue(warmup),
                    MaxIterations = parse.GetValue(iterations), MinIterations = Math.Min(10, Math.Max(1, parse.GetValue(iterations))),
                },
            };
            plan.Settings.Validate();
            var cudaAsked = plan.Providers.Any(p => p is ExecutionProvider.Cuda or ExecutionProvider.Auto);
            if (plan.CudaGraphs.All(g => g) && !cudaAsked)
                throw new GanOnnxException("--cuda-graph on applies to CUDA rows only, and --providers has no cuda (or auto); give --cuda-graph off,on to time both where CUDA runs.");
            if (plan.Outputs.All(o => o == "device") && !cudaAsked)
                throw new GanOnnxException("--outputs device leaves the images on the GPU: CUDA rows only, and --providers has no cuda (or auto); add float or uint8.");
            var fileCount = parse.GetValue(files);
            if (fileCount is < 0 or 1) throw new GanOnnxException($"--files is {fileCount}; it must be 0 (skip) or at least 2 (the plain inference is timed before the files and halfway through them).");
            var compressions = ListOption.Words("--png-compression", parse.GetValue(filesPng)!, ["small", "none"]).Select(GanOnnxCli.ParsePngCompression).Distinct().ToArray();
            var histogramPath = parse.GetValue(histogram) is { } given ? GanOnnxCli.ImagePath("--histogram", given) : null;

            var results = plan.Run(error);
            if (results.Count == 0) throw new GanOnnxException("No provider could run the model; see the messages above.");
            output.Write(BenchmarkReport.Table(results));
            if (results.Any(r => r.Threads == 0 && r.Target.EndsWith("-cpu", StringComparison.Ordinal)))
                output.WriteLine(GeneratorOptions.AutomaticIntraOpThreads > 0
                    ? $"threads 'auto': {GeneratorOptions.AutomaticIntraOpThreads} for GanOnnx (one per physical core, within the process's CPU limit); ONNX Runtime's own default for the plain peer"
                    : "threads 'auto': ONNX Runtime's own default");
            var stages = StageBreakdown.Measure(paths[0], plan.BatchSizes.Max());
            output.WriteLine(stages.ToString());
            var comparisons = new List<FilesComparison>();
            if (fileCount > 0)
                foreach (var threadCount in plan.ThreadCounts)
                    foreach (var png in compressions)
                    {
                        comparisons.Add(FilesComparison.Measure(paths[0], fileCount, plan.BatchSizes.Max(), threadCount, parse.GetValue(filesDir), plan.Settings, png, plan.SubPixel[0]));
                        output.WriteLine(comparisons[^1].ToString());
                    }
            if (parse.GetValue(json) is { } jsonPath)
                AtomicFile.Write(jsonPath, System.Text.Encoding.UTF8.GetBytes(BenchmarkReport.Json(results, new Dictionary<string, object>
                {
                    ["stages"] = stages,
                    ["files"] = comparisons,
                })));
            if (parse.GetValue(markdown) is { } mdPath) AtomicFile.Write(mdPath, System.Text.Encoding.UTF8.GetBytes(BenchmarkReport.Markdown(results)));
            if (histogramPath is not null) LatencyHistogram.Save(results, histogramPath);
            return 0;
        }));
        return command;
    }

    /// <summary>Every model × provider × CUDA graph × output × thread count × batch size, and the plain peer.</summary>
    internal sealed record BenchPlan
    {
        public required string[] Models { get; init; }
        public required ExecutionProvider[] Providers { get; init; }
        public required int[] BatchSizes { get; init; }
        public required int[] ThreadCounts { get; init; }
        public string[] Outputs { get; init; } = ["float"];
        public bool[] CudaGraphs { get; init; } = [false];
        public SubPixelMode[] SubPixel { get; init; } = [SubPixelMode.Auto];
        public bool Peer { get; init; }
        public IReadOnlyList<string> CudaLibraryFolders { get; init; } = [];
        /// <summary>The CUDA math and layout every CUDA row uses (TF32, NHWC, cuDNN search), the plain peer's too.</summary>
        public GeneratorOptions Tuning { get; init; } = new();
        public required BenchmarkSettings Settings { get; init; }

        /// <summary>Runs the plan; a provider that cannot load is reported on <paramref name="log"/> and skipped when there are others.</summary>
        public List<BenchmarkResult> Run(TextWriter log)
        {
            var results = new List<BenchmarkResult>();
            foreach (var path in Models)
            {
                var name = Path.GetFileName(path);
                foreach (var provider in Providers)
                {
                    try
                    {
                        foreach (var graph in CudaGraphs.Where(g => !g || provider is ExecutionProvider.Cuda or ExecutionProvider.Auto))
                            foreach (var output in Outputs.Where(o => o != "device" || provider is ExecutionProvider.Cuda or ExecutionProvider.Auto))
                                foreach (var subPixel in SubPixel)
                                    foreach (var threads in ThreadCounts)
                                        foreach (var batch in BatchSizes)
                                        {
                                            var options = Tuning with
                                            {
                                                Provider = provider, IntraOpThreads = threads, MaxBatchSize = batch, CudaGraph = graph, SubPixel = subPixel,
                                                PixelOutput = output == "uint8" ? PixelLayout.Nhwc : PixelLayout.None, CudaLibraryFolders = CudaLibraryFolders,
                                            };
                                            var result = InferenceBenchmark.Measure(() => new OnnxRuntimeTarget(path, options, onDevice: output == "device"), batch, threads, Settings);
                                            results.Add(Described(result with { Model = name, Output = output, CudaGraph = graph }));
                                        }
                        if (Peer && provider is ExecutionProvider.Cpu or ExecutionProvider.Cuda)
                            foreach (var threads in ThreadCounts)
                                foreach (var batch in BatchSizes)
                                {
                                    var cuda = provider == ExecutionProvider.Cuda ? Tuning : null;
                                    var result = InferenceBenchmark.Measure(() => new PlainOnnxRuntimeTarget(path, threads, cuda), batch, threads, Settings);
                                    results.Add(Described(result with { Model = name }));
                                }
                    }
                    catch (Exception ex) when ((ex is GanOnnxException || ex.GetType().Name == "OnnxRuntimeException") && Providers.Length > 1)
                    {
                        log.WriteLine($"skipped {provider} for {name}: {ex.Message}");
                    }
                }
            }
            return results;
        }

        /// <summary>A CUDA row with the math it ran (<see cref="Tuning"/>); other rows as they are.</summary>
        private BenchmarkResult Described(BenchmarkResult result) => result.Target.EndsWith("-cuda", StringComparison.Ordinal)
            ? result with { Tf32 = Tuning.CudaTf32, CudaNhwc = Tuning.CudaPreferNhwc, CudnnExhaustive = Tuning.CudnnExhaustiveSearch }
            : result;
    }
}
