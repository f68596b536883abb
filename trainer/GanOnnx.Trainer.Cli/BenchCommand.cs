using System.Globalization;
using GanOnnx.Diagnostics;

namespace GanOnnx.Trainer.Cli;

/// <summary><c>ganonnx-train bench</c>: ONNX Runtime against TorchSharp's eager forward pass on the same generator.</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint written by 'train'.", Required = true };
        var model = new Option<string?>("--model") { Description = "Its exported ONNX file (default: exported now to a temporary file)." };
        var ema = new Option<bool>("--ema") { Description = "Use the EMA weights." };
        var batches = new Option<string>("--batch-sizes") { Description = "Comma-separated batch sizes.", DefaultValueFactory = _ => "1,256" };
        var threads = new Option<int>("--threads") { Description = "Threads for both engines (0 = each engine's default).", DefaultValueFactory = _ => 0 };
        var duration = new Option<double>("--duration") { Description = "Seconds of timed calls per configuration.", DefaultValueFactory = _ => 3.0 };
        var markdown = new Option<string?>("--markdown") { Description = "Write the results as a Markdown table." };
        var command = new Command("bench", "Time ONNX Runtime against TorchSharp's eager forward pass on the same generator, side by side.")
        {
            checkpoint, model, ema, batches, threads, duration, markdown,
        };
        command.SetAction(parse => TrainerCli.Guarded(error, () =>
        {
            var ckptPath = parse.GetValue(checkpoint)!;
            var useEma = parse.GetValue(ema);
            var threadCount = parse.GetValue(threads);
            if (threadCount < 0) throw new TrainerException($"--threads is {threadCount}; it must be 0 or more.");
            var sizes = ListOption.Ints("--batch-sizes", parse.GetValue(batches)!, 1, GeneratorOptions.BatchSizeLimit);
            var settings = new BenchmarkSettings { Duration = TimeSpan.FromSeconds(parse.GetValue(duration)) };
            settings.Validate();

            var onnx = parse.GetValue(model);
            string? temp = null;
            if (onnx is null)
            {
                var ckpt = Checkpoint.Load(ckptPath);
                using var generator = ckpt.LoadGenerator(ckptPath, useEma ? "generator_ema" : "generator");
                temp = Path.Combine(Path.GetTempPath(), $"ganonnx-bench-{Guid.NewGuid():N}.onnx");
                OnnxExporter.Export(generator, new ExportOptions { Ema = useEma }, temp);
                onnx = temp;
            }
            try
            {
                var results = new List<BenchmarkResult>();
                foreach (var batch in sizes)
                {
                    var ortOptions = new GeneratorOptions { IntraOpThreads = threadCount, MaxBatchSize = batch };
                    var ort = InferenceBenchmark.Measure(() => new OnnxRuntimeTarget(onnx, ortOptions), batch, threadCount, settings);
                    var torch = InferenceBenchmark.Measure(() => new TorchSharpTarget(ckptPath, useEma, threadCount), batch, threadCount, settings);
                    results.Add(ort);
                    results.Add(torch);
                }
                output.Write(BenchmarkReport.Table(results));
                foreach (var pair in results.Chunk(2))
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"batch {pair[0].Batch}: ONNX Runtime {pair[0].ImagesPerSecond / pair[1].ImagesPerSecond:F2}× TorchSharp's images/s, p50 {pair[1].P50Ms / pair[0].P50Ms:F2}× lower"));
                }
                if (parse.GetValue(markdown) is { } md) AtomicFile.Write(md, System.Text.Encoding.UTF8.GetBytes(BenchmarkReport.Markdown(results)));
                return 0;
            }
            finally
            {
                if (temp is not null) File.Delete(temp);
            }
        }));
        return command;
    }
}
