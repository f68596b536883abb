using System.Globalization;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// The uniform average of a generator's weights over several checkpoints of one run: a longer weight average, chosen
/// after training (Yazıcı et al. 2019, "The unusual effectiveness of averaging in GAN training"). Averaging the EMA
/// section of the checkpoints of steps a…b gives roughly what a longer EMA would have given, without training again.
/// </summary>
/// <remarks>
/// Only the parameters are averaged; the BatchNorm running statistics are recomputed from the averaged generator's own
/// activations (<see cref="BatchNormCalibration"/>), as the trainer does for its EMA. The result is a checkpoint that
/// holds only the averaged section (and the clusters of a self-conditioned run): <c>eval</c> and <c>export</c> read it,
/// a resume refuses it by name. Its header is the latest input's, with <see cref="AveragedFromKey"/> and <c>averaged_section</c>
/// in <see cref="Checkpoint.Header.Extra"/>.
/// </remarks>
public static class CheckpointAverage
{
    /// <summary>The header's <see cref="Checkpoint.Header.Extra"/> key that marks an average and says which steps it holds.</summary>
    public const string AveragedFromKey = "averaged_from";

    /// <summary>The sections that hold a generator.</summary>
    public static readonly string[] GeneratorSections = ["generator", "generator_ema"];

    /// <summary>
    /// Averages section <paramref name="section"/> ("generator" or "generator_ema") of <paramref name="paths"/> (at least
    /// two checkpoints of one run: the same model, dataset and seed, at different steps). A run trained with
    /// <see cref="TrainingOptions.GeneratorClassesFromData"/> needs its training labels as <paramref name="classPool"/>, so
    /// that the average's BatchNorm statistics describe the class mix its steps asked for.
    /// </summary>
    public static Checkpoint Average(IReadOnlyList<string> paths, string section, Tensor? classPool = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (!GeneratorSections.Contains(section))
            throw new TrainerException($"Section '{section}' is not a generator; average one of {string.Join(", ", GeneratorSections)}.");
        if (paths.Count < 2) throw new TrainerException($"Averaging needs at least two checkpoints; {paths.Count} given.");
        var twice = paths.GroupBy(Path.GetFullPath).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new TrainerException($"Checkpoint '{twice.First()}' is given more than once.");

        // One checkpoint in memory at a time: a run's checkpoints carry its discriminator and optimizer states too.
        (string Path, Checkpoint.Header Info)? first = null;
        Checkpoint.Header? latest = null;
        byte[]? latestClusters = null;
        var steps = new SortedDictionary<long, string>();
        List<Tensor>? sums = null;
        try
        {
            foreach (var path in paths)
            {
                var file = Checkpoint.Load(path);
                if (first is null)
                {
                    first = (path, file.Info);
                    if (file.Info.Training.GeneratorClassesFromData && classPool is null)
                        throw new TrainerException($"The run of '{path}' drew its generator's classes from the data (TrainingOptions.GeneratorClassesFromData): give its training data so that the average's BatchNorm statistics come from the same class mix.");
                }
                else CheckSameRun(first.Value, (path, file.Info));
                if (!steps.TryAdd(file.Info.Step, path))
                    throw new TrainerException($"Checkpoints '{steps[file.Info.Step]}' and '{path}' are both at step {file.Info.Step}; give each step once.");
                if (latest is null || file.Info.Step > latest.Step)
                {
                    latest = file.Info;
                    latestClusters = file.Sections.GetValueOrDefault("clusters");
                }
                using var scope = NewDisposeScope();
                using var generator = file.LoadGenerator(path, section);
                using var _ = no_grad();
                sums ??= generator.parameters().Select(p => zeros_like(p, ScalarType.Float64).MoveToOuterDisposeScope()).ToList();
                foreach (var (sum, value) in sums.Zip(generator.parameters())) sum.add_(value.to(ScalarType.Float64));
            }

            var header = latest!;
            var averaged = new Generator(header.Model);
            try
            {
                using (no_grad())
                    foreach (var (parameter, sum) in averaged.parameters().Zip(sums!))
                        parameter.copy_(sum.div_(steps.Count).to(parameter.dtype));
                BatchNormCalibration.Recalibrate(averaged, header.Training.Seed, header.Training.GeneratorClassesFromData ? classPool : null);
                averaged.eval();
                var extra = new Dictionary<string, string>(header.Extra)
                {
                    [AveragedFromKey] = $"steps {string.Join(", ", steps.Keys.Select(k => k.ToString(CultureInfo.InvariantCulture)))} ({steps.Count} checkpoints)",
                    ["averaged_section"] = section,
                };
                var sections = new Dictionary<string, byte[]> { [section] = Checkpoint.StateOf(averaged) };
                if (latestClusters is not null) sections["clusters"] = latestClusters;
                return new Checkpoint { Info = header with { Extra = extra }, Sections = sections };
            }
            finally
            {
                averaged.Dispose();
            }
        }
        finally
        {
            foreach (var sum in sums ?? []) sum.Dispose();
        }
    }

    /// <summary>Refuses a checkpoint of another model, dataset or run than <paramref name="reference"/>'s, naming what differs.</summary>
    private static void CheckSameRun((string Path, Checkpoint.Header Info) reference, (string Path, Checkpoint.Header Info) other)
    {
        var (a, b) = (reference.Info, other.Info);
        var differences = a.Model.DifferencesFrom(b.Model, mine: $"in '{reference.Path}'", theirs: $"in '{other.Path}'");
        if (a.Model.ForComparison() != b.Model.ForComparison() || !SamePrior(a.Model.LatentClassPrior, b.Model.LatentClassPrior))
            throw new TrainerException($"Checkpoints '{other.Path}' and '{reference.Path}' hold different models" +
                $"{(differences.Count == 0 ? " (their latent class shares differ)" : ": " + string.Join("; ", differences))}; average checkpoints of one run.");
        if (a.Dataset != b.Dataset)
            throw new TrainerException($"Checkpoint '{other.Path}' was trained on '{b.Dataset}', '{reference.Path}' on '{a.Dataset}'; average checkpoints of one run.");
        if (a.Training.Seed != b.Training.Seed)
            throw new TrainerException($"Checkpoint '{other.Path}' was trained with seed {b.Training.Seed}, '{reference.Path}' with seed {a.Training.Seed}: weights of different runs do not average into a generator; average checkpoints of one run.");
    }

    private static bool SamePrior(double[]? a, double[]? b) => (a ?? []).SequenceEqual(b ?? []);
}
