using System.Globalization;
using GanOnnx.Diagnostics;

namespace GanOnnx.Trainer.Cli;

/// <summary><c>ganonnx-train bench-train</c>: training speed and resident memory of the presets.</summary>
internal static class BenchTrainCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var batch = new Option<int>("--batch-size") { Description = "Images per batch.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Timed steps per model.", DefaultValueFactory = _ => 30 };
        var models = new Option<string?>("--models") { Description = "Comma-separated preset names to run (default: all)." };
        var memorySteps = new Option<string>("--memory-steps") { Description = "Steps after which to record resident memory (empty = skip).", DefaultValueFactory = _ => "1000,10000" };
        var memoryModel = new Option<string>("--memory-model") { Description = "Preset used for the memory run.", DefaultValueFactory = _ => "mlp 28×28" };
        var threads = new Option<int>("--threads") { Description = "CPU threads for TorchSharp (0 = all cores).", DefaultValueFactory = _ => 0 };
        var command = new Command("bench-train", "Training speed (steps/s) of every model at a batch size, and resident memory over a long run.")
        {
            batch, steps, models, memorySteps, memoryModel, threads,
        };
        command.SetAction(parse => TrainerCli.Guarded(error, () =>
        {
            var threadCount = parse.GetValue(threads);
            TorchSharp.torch.set_num_threads(threadCount > 0 ? threadCount : Environment.ProcessorCount);
            var all = TrainingBenchmark.Presets();
            var presets = all;
            var wanted = parse.GetValue(models)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (wanted is not null)
            {
                var unknown = wanted.Where(w => presets.All(p => p.Name != w)).ToList();
                if (unknown.Count > 0) throw new TrainerException($"Unknown model '{unknown[0]}'; choose from: {string.Join(", ", presets.Select(p => p.Name))}.");
                presets = presets.Where(p => wanted.Contains(p.Name)).ToList();
            }
            // Every flag is checked before the first timed step: the timings take minutes.
            var memoryText = parse.GetValue(memorySteps)!;
            var at = string.IsNullOrWhiteSpace(memoryText) ? [] : ListOption.Ints("--memory-steps", memoryText, 1);
            (string Name, ModelConfig Model, TrainingOptions Options)? memoryPreset = null;
            if (at.Length > 0)
                memoryPreset = all.FirstOrDefault(p => p.Name == parse.GetValue(memoryModel)) is { Name: not null } found ? found
                    : throw new TrainerException($"Unknown --memory-model '{parse.GetValue(memoryModel)}'; choose from: {string.Join(", ", all.Select(p => p.Name))}.");
            var batchSize = parse.GetValue(batch);
            if (batchSize < 1) throw new TrainerException($"--batch-size is {batchSize}; it must be at least 1.");
            var timed = parse.GetValue(steps);
            if (timed < 1) throw new TrainerException($"--steps is {timed}; it must be at least 1.");
            output.WriteLine($"training speed at batch {batchSize}, {TorchSharp.torch.get_num_threads()} threads:");
            foreach (var (name, model, options) in presets)
            {
                var result = TrainingBenchmark.Measure(name, model, options, batchSize, timed);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-30} {result.StepsPerSecond,8:F2} steps/s  ({result.StepsPerSecond * batchSize,8:F0} images/s)"));
            }
            if (at.Length > 0)
            {
                var preset = memoryPreset!.Value;
                var result = TrainingBenchmark.Measure(preset.Name, preset.Model, preset.Options, batchSize, at.Max(), at);
                output.WriteLine($"resident memory while training {preset.Name} at batch {batchSize}:");
                foreach (var (step, mib) in result.ResidentMiBAtStep.OrderBy(kv => kv.Key))
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  after {step,7} steps: {mib,8:F1} MiB"));
            }
            return 0;
        }));
        return command;
    }
}
