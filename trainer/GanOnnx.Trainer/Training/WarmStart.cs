using System.Globalization;
using GanOnnx.Trainer.Data;
using GanOnnx.Trainer.Models;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// Starts a run from the weights of another run's checkpoint (<see cref="TrainingOptions.InitFrom"/>): its generator,
/// generator average and discriminator, layer by layer, with the optimizers, the step count and the learning-rate
/// schedule afresh. What conditions the models may differ between the two; every other weight must have the same shape.
/// <list type="bullet">
/// <item>The generator's class embedding (concatenated to the latent before its first layer) becomes one row per class
/// of this run, and each row's contribution to the first layer starts as that of the source row its images mostly had
/// (<see cref="RowMap"/>): a conditional run started from a self-conditioned one draws, for each class, what the source
/// drew for the cluster that class's images mostly fell in.</item>
/// <item>The discriminator's per-class input planes (or projection vectors) are mapped the same way; an input it reads
/// that the source did not (a class plane, a minibatch-deviation feature) starts with zero weights, so it scores as the
/// source did; an input the source read that it does not is dropped.</item>
/// <item>Rows with nothing to start from start at zero: the condition starts ignored and is learned.</item>
/// </list>
/// </summary>
internal static class WarmStart
{
    /// <summary>What a source checkpoint must hold.</summary>
    private static readonly string[] Sections = ["generator", "discriminator"];

    /// <summary>Refuses, before any work, a source that cannot start a run of <paramref name="model"/>.</summary>
    public static void Check(Checkpoint source, string path, ModelConfig model)
    {
        if (source.Info.Extra.TryGetValue(CheckpointAverage.AveragedFromKey, out var averaged))
            throw new TrainerException($"Checkpoint '{path}' (TrainingOptions.InitFrom) is a generator averaged over {averaged} ('ganonnx-train average'): it has no discriminator to start from; start from one of the checkpoints it was made from.");
        foreach (var section in Sections)
            if (!source.Sections.ContainsKey(section))
                throw new TrainerException($"Checkpoint '{path}' (TrainingOptions.InitFrom) has no '{section}' section to start from.");
        var from = source.Info.Model;
        if (from.Architecture != model.Architecture)
            throw new TrainerException($"Checkpoint '{path}' (TrainingOptions.InitFrom) holds a {from.ArchitectureName} model; this run builds a {model.ArchitectureName} one.");
        if (from.Channels != model.Channels || from.ImageSize != model.ImageSize)
            throw new TrainerException($"Checkpoint '{path}' (TrainingOptions.InitFrom) holds a model of {from.Channels}×{from.ImageSize}×{from.ImageSize} images; this run makes {model.Channels}×{model.ImageSize}×{model.ImageSize}.");
        if (from.LatentDim != model.LatentDim)
            throw new TrainerException($"Checkpoint '{path}' (TrainingOptions.InitFrom) holds a generator of latent size {from.LatentDim}; this run's is {model.LatentDim}.");
        // Every other layer must fit: tried on fresh models (the shapes are all that matters), before the run writes anything.
        using (var saved = new Generator(from))
        using (var fresh = new Generator(model))
            CopyGenerator(saved, fresh, null, path);
        using (var saved = new Discriminator(from))
        using (var fresh = new Discriminator(model))
            CopyDiscriminator(saved, fresh, null, path);
    }

    /// <summary>
    /// Loads <paramref name="source"/> (checked by <see cref="Check"/>) into <paramref name="run"/>'s three models;
    /// <paramref name="rows"/> is every training image's conditioning row in this run (its class, cluster or (class,
    /// cluster) pair), or null. Returns a sentence for the log.
    /// </summary>
    public static string Apply(TrainingRun run, Checkpoint source, string path, ImageDataset data, Tensor? rows)
    {
        var from = source.Info.Model;
        var to = run.Generator.Config;
        var (map, agreement, why) = RowMap(source, data, rows, to.EmbeddedClasses > 0 ? to.EmbeddedClasses : to.DiscriminatorClasses);
        using (var generator = source.LoadGenerator(path))
            CopyGenerator(generator, run.Generator, map, path);
        using (var ema = source.LoadGenerator(path, source.Sections.ContainsKey("generator_ema") ? "generator_ema" : "generator"))
            CopyGenerator(ema, run.Ema, map, path);
        using (var discriminator = new Discriminator(from))
        {
            source.LoadInto(discriminator, "discriminator", path);
            CopyDiscriminator(discriminator, run.Discriminator, map, path);
        }
        var start = $"Starting from the weights of '{path}' (step {source.Info.Step}, {source.Info.Dataset}): the generator, its average and the discriminator; the optimizers start afresh.";
        var conditioned = Math.Max(to.EmbeddedClasses, to.DiscriminatorClasses);
        if (conditioned == 0) return start;
        if (map is null) return $"{start} This run's {conditioned} condition rows start at zero ({why}).";
        var mapped = string.Create(CultureInfo.InvariantCulture,
            $"Each of this run's {conditioned} condition rows starts as the source's row (of {Math.Max(from.EmbeddedClasses, from.DiscriminatorClasses)}) that most of its images had ({agreement:P1} of the images agree).");
        var (told, tells) = (ConditionInput(from), ConditionInput(to));
        // The rows map only between weights of one kind: a discriminator told its condition another way starts without it.
        return $"{start} {mapped}" + (told == tells || to.DiscriminatorClasses == 0 ? "" :
            $" The discriminator's condition starts at zero: the source's read it as {told}, this run's as {tells}.");
    }

    /// <summary>How a discriminator of <paramref name="model"/> is told an image's condition (its class, cluster or pair).</summary>
    private static string ConditionInput(ModelConfig model) =>
        model.DiscriminatorClasses == 0 ? "nothing"
        : model.Projection ? "a projection"
        : model.AuxiliaryClassifier ? "nothing (an auxiliary classifier's discriminator sees the image alone)"
        : "a learned input plane";

    /// <summary>
    /// For each of this run's <paramref name="count"/> condition rows, the source's row that most of its training images
    /// had (−1 for a row without images), and the share of images whose source row is the one their row maps to; or
    /// null and the reason when either side has no per-image rows or the source was trained on other data.
    /// </summary>
    internal static (int[]? Map, double Agreement, string Why) RowMap(Checkpoint source, ImageDataset data, Tensor? rows, int count)
    {
        var from = source.Info.Model;
        if (Math.Max(from.EmbeddedClasses, from.DiscriminatorClasses) == 0) return (null, 0, "the source has no condition");
        if (rows is null) return (null, 0, "this run's images have no condition rows");
        if (source.Info.Dataset != data.Name) return (null, 0, $"the source was trained on '{source.Info.Dataset}', not '{data.Name}'");
        long[] sourceRows;
        if (from.Clustered)
        {
            if (!source.Sections.TryGetValue("clusters", out var bytes) || bytes.Length != data.Count * sizeof(long))
                return (null, 0, $"the source holds no clusters of the {data.Count} images of '{data.Name}'");
            sourceRows = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes).ToArray();
        }
        else if (from.NumClasses > 0) sourceRows = data.Labels.data<long>().ToArray();
        else return (null, 0, "the source's condition (an InfoGAN code) belongs to no image");

        var targetRows = rows.cpu().data<long>().ToArray();
        var sourceCount = (int)sourceRows.Max() + 1;
        var counts = new int[count, sourceCount];
        for (var i = 0; i < targetRows.Length; i++) counts[targetRows[i], sourceRows[i]]++;
        var map = new int[count];
        long agreeing = 0;
        for (var p = 0; p < count; p++)
        {
            map[p] = -1;
            for (var k = 0; k < sourceCount; k++)
                if (counts[p, k] > 0 && (map[p] < 0 || counts[p, k] > counts[p, map[p]])) map[p] = k;
            if (map[p] >= 0) agreeing += counts[p, map[p]];
        }
        return (map, (double)agreeing / targetRows.Length, "");
    }

    /// <summary>
    /// Copies <paramref name="source"/>'s weights into <paramref name="target"/>. The first layer's latent columns are
    /// copied; its class-embedding columns are rebuilt so that row p's one-hot embedding contributes what the source's
    /// row map[p] did.
    /// </summary>
    private static void CopyGenerator(Generator source, Generator target, int[]? map, string path)
    {
        var from = source.state_dict();
        var mine = target.state_dict();
        // A layer only the source has (a deeper source) would leave the rest of its layers reading what it no longer makes.
        if (from.Keys.FirstOrDefault(name => name != "label_embedding.weight" && !mine.ContainsKey(name)) is { } extra)
            throw new TrainerException($"Checkpoint '{path}' (TrainingOptions.InitFrom): the generator's '{extra}' ({string.Join("×", from[extra].shape)}) has no counterpart in this run's generator; {SameLayers}.");
        var first = $"body.{target.Body.named_children().First().name}.weight";
        var latent = target.Config.LatentDim;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, weight) in mine)
        {
            if (name == "label_embedding.weight")
            {
                // One-hot rows: the first layer's column for a row is then that row's whole contribution.
                weight.copy_(eye(weight.shape[0]));
                continue;
            }
            var saved = from.TryGetValue(name, out var s) ? s : throw Mismatch(path, "generator", name, null, weight);
            if (name == first)
            {
                if (saved.shape[0] != weight.shape[0]) throw Mismatch(path, "generator", name, saved, weight);
                weight.zero_();
                weight.narrow(1, 0, latent).copy_(saved.narrow(1, 0, latent));
                if (map is null || source.LabelEmbedding is null || target.LabelEmbedding is null) continue;
                // Column k of W_embedding · Eᵀ: what the source's row k adds to the first layer.
                var contributions = saved.narrow(1, latent, saved.shape[1] - latent).matmul(from["label_embedding.weight"].t());
                for (var p = 0; p < map.Length; p++)
                    if (map[p] >= 0) weight.select(1, latent + p).copy_(contributions.select(1, map[p]));
                continue;
            }
            if (!saved.shape.SequenceEqual(weight.shape)) throw Mismatch(path, "generator", name, saved, weight);
            weight.copy_(saved);
        }
    }

    /// <summary>Copies <paramref name="source"/>'s weights into <paramref name="target"/> (see the class remarks).</summary>
    private static void CopyDiscriminator(Discriminator source, Discriminator target, int[]? map, string path)
    {
        var from = source.state_dict();
        using var _ = no_grad();
        foreach (var (name, weight) in target.state_dict())
        {
            var saved = from.TryGetValue(name, out var s) ? s : null;
            if (name is "label_plane.weight" or "projection.weight")
            {
                weight.zero_();
                if (map is null || saved is null || saved.shape[1] != weight.shape[1]) continue;
                for (var p = 0; p < map.Length; p++)
                    if (map[p] >= 0) weight[p].copy_(saved[map[p]]);
                continue;
            }
            if (name.StartsWith("code_head.", StringComparison.Ordinal) || name.StartsWith("class_head.", StringComparison.Ordinal))
            {
                if (saved is not null && saved.shape.SequenceEqual(weight.shape)) weight.copy_(saved);
                continue; // a head the source lacks starts fresh
            }
            if (saved is null) throw Mismatch(path, "discriminator", name, null, weight);
            CopyInputs(saved, weight, () => Mismatch(path, "discriminator", name, saved, weight));
        }
    }

    /// <summary>
    /// Copies <paramref name="saved"/> into <paramref name="target"/> when their shapes match, or, when they differ only in
    /// their second dimension (a layer's inputs: image channels before a class plane, features before a minibatch
    /// deviation), the inputs both have, with zeros for the ones only <paramref name="target"/> has.
    /// </summary>
    internal static void CopyInputs(Tensor saved, Tensor target, Func<Exception> mismatch)
    {
        using var _ = no_grad();
        if (saved.shape.SequenceEqual(target.shape))
        {
            target.copy_(saved);
            return;
        }
        if (saved.dim() != target.dim() || saved.dim() < 2 || Enumerable.Range(0, (int)saved.dim()).Any(d => d != 1 && saved.shape[d] != target.shape[d]))
            throw mismatch();
        var common = Math.Min(saved.shape[1], target.shape[1]);
        target.zero_();
        target.narrow(1, 0, common).copy_(saved.narrow(1, 0, common));
    }

    /// <summary>What every layer mismatch advises.</summary>
    private const string SameLayers = "start from a run with the same layers (--width, --g-depth, --d-width, --arch, --spectral-norm)";

    private static TrainerException Mismatch(string path, string model, string name, Tensor? saved, Tensor target) =>
        new($"Checkpoint '{path}' (TrainingOptions.InitFrom): the {model}'s '{name}' is {(saved is null ? "missing" : string.Join("×", saved.shape))}, this run's is {string.Join("×", target.shape)}; {SameLayers}.");
}
