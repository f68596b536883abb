using System.CommandLine;
using GanOnnx.Imaging;
using GanOnnx.Runtime;
using GanOnnx.Runtime.Diagnostics;

namespace GanOnnx.Cli;

/// <summary><c>ganonnx bench</c>: latency and throughput per provider × batch size × thread count.</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = GanOnnxCli.ModelOption();
        var providers = new Option<string>("--providers") { Description = "Comma-separated: cpu, cuda, directml, auto.", DefaultValueFactory = _ => "cpu" };
        var batches = new Option<string>("--batch-sizes") { Description = "Comma-separated batch sizes.", DefaultValueFactory = _ => "1,64,256" };
        var threads = new Option<string>("--threads") { Description = "Comma-separated intra-op thread counts (0 = ONNX Runtime's choice).", DefaultValueFactory = _ => "0" };
        var duration = new Option<double>("--duration") { Description = "Seconds of timed calls per configuration.", DefaultValueFactory = _ => 3.0 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed calls before timing.", DefaultValueFactory = _ => 5 };
        var iterations = new Option<int>("--max-iterations") { Description = "Stop timing after this many calls.", DefaultValueFactory = _ => 10_000 };
        var json = new Option<string?>("--json") { Description = "Write the results (with every latency) as JSON." };
        var markdown = new Option<string?>("--markdown") { Description = "Write the results as a Markdown table." };
        var histogram = new Option<string?>("--histogram") { Description = "Write latency histograms as a PNG." };
        var command = new Command("bench", "Measure session creation, first run, latency percentiles, throughput and memory.")
        {
            model, providers, batches, threads, duration, warmup, iterations, json, markdown, histogram,
        };
        command.SetAction(parse => GanOnnxCli.Guarded(error, () =>
        {
            var path = parse.GetValue(model)!;
            var providerList = parse.GetValue(providers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(GanOnnxCli.ParseProvider).Distinct().ToArray();
            if (providerList.Length == 0) throw new GanOnnxException("--providers is empty; give at least one of cpu, cuda, directml, auto.");
            var batchSizes = ListOption.Ints("--batch-sizes", parse.GetValue(batches)!, 1);
            var threadCounts = ListOption.Ints("--threads", parse.GetValue(threads)!, 0);
            var settings = new BenchmarkSettings
            {
                Duration = TimeSpan.FromSeconds(parse.GetValue(duration)), WarmupIterations = parse.GetValue(warmup),
                MaxIterations = parse.GetValue(iterations), MinIterations = Math.Min(10, Math.Max(1, parse.GetValue(iterations))),
            };
            settings.Validate();
            if (!File.Exists(path)) throw new GanOnnxException($"Model file '{path}' does not exist.");

            var results = Run(path, providerList, batchSizes, threadCounts, settings, error);
            if (results.Count == 0) throw new GanOnnxException("No provider could run the model; see the messages above.");
            output.Write(BenchmarkReport.Table(results));
            output.WriteLine(StageBreakdown.Measure(path, batchSizes.Max()).ToString());
            if (parse.GetValue(json) is { } jsonPath) ImageEncoder.WriteAtomically(jsonPath, System.Text.Encoding.UTF8.GetBytes(BenchmarkReport.Json(results)));
            if (parse.GetValue(markdown) is { } mdPath) ImageEncoder.WriteAtomically(mdPath, System.Text.Encoding.UTF8.GetBytes(BenchmarkReport.Markdown(results)));
            if (parse.GetValue(histogram) is { } pngPath) LatencyHistogram.Save(results, pngPath);
            return 0;
        }));
        return command;
    }

    /// <summary>Every provider × thread count × batch size; a provider that cannot load is reported and skipped.</summary>
    internal static List<BenchmarkResult> Run(string path, ExecutionProvider[] providers, int[] batchSizes, int[] threadCounts, BenchmarkSettings settings, TextWriter log)
    {
        var results = new List<BenchmarkResult>();
        foreach (var provider in providers)
        {
            foreach (var threads in threadCounts)
            {
                foreach (var batch in batchSizes)
                {
                    var options = new GeneratorOptions { Provider = provider, IntraOpThreads = threads, MaxBatchSize = Math.Max(batch, 1) };
                    try
                    {
                        results.Add(InferenceBenchmark.Measure(() => new OnnxRuntimeTarget(path, options), batch, threads, settings));
                    }
                    catch (GanOnnxException ex) when (providers.Length > 1)
                    {
                        log.WriteLine($"skipped {provider}: {ex.Message}");
                        goto nextProvider;
                    }
                }
            }
            nextProvider:;
        }
        return results;
    }
}
