using System.Globalization;

namespace GanOnnx.Trainer.Cli;

/// <summary><c>ganonnx-train eval</c>: Fréchet distance, class entropy, confidence and class accuracy of a generator.</summary>
internal static class EvalCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var data = new Option<string>("--data") { Description = "IDX folder with train and t10k files (the dataset to compare with).", Required = true };
        var model = new Option<string?>("--model") { Description = "An exported ONNX generator." };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A training checkpoint (scored through an in-memory export)." };
        var ema = new Option<bool>("--ema") { Description = "With --checkpoint: score the EMA weights." };
        var classifierOption = new Option<string?>("--classifier") { Description = "Classifier file (default: the data folder's classifier.gockpt, trained if missing)." };
        var count = new Option<int>("--count") { Description = "Images to generate and score.", DefaultValueFactory = _ => 5000 };
        var json = new Option<string?>("--json") { Description = "Write the scores as JSON (for 'export --quality')." };
        var perClass = new Option<bool>("--per-class") { Description = "Also score each class: the Fréchet distance of its images to its held-out images, against the floor of as many training images (by the class asked for, or for an unconditional model by the classifier's prediction)." };
        var truncation = new Option<float>("--truncation") { Description = "Score the images 'ganonnx generate --truncation' makes: latents scaled by this ψ in (0, 1]. 1 (the default) scores the model as it samples; lower trades variety for typical images, and such scores cannot be recorded in a model (export --quality, record-quality).", DefaultValueFactory = _ => 1f };
        var command = new Command("eval", "Score a generator: Fréchet distance of classifier features (with the real-data floor), class entropy, confidence, class accuracy.")
        {
            data, model, checkpoint, ema, classifierOption, count, json, perClass, truncation,
        };
        command.SetAction(parse => TrainerCli.Guarded(error, () =>
        {
            var modelPath = parse.GetValue(model);
            var checkpointPath = parse.GetValue(checkpoint);
            if ((modelPath is null) == (checkpointPath is null)) throw new TrainerException("Give exactly one of --model (ONNX) or --checkpoint.");
            // Before the classifier loads: 0 ended in an unhandled "tensors" exception, and 1 was named as training's --eval-count.
            if (parse.GetValue(count) < 2) throw new TrainerException($"--count is {parse.GetValue(count)}; the Fréchet distance needs at least 2 images (use thousands).");
            // The runtime's own check of ψ, before the classifier loads (its message is given the flag's name).
            var psi = parse.GetValue(truncation);
            var sampling = new GeneratorOptions { Truncation = psi };
            sampling.Validate();
            using var evaluator = Evaluator.Open(parse.GetValue(data)!, parse.GetValue(classifierOption), log: output);
            var started = DateTime.UtcNow;
            QualityScores scores;
            var images = parse.GetValue(count);
            var byClass = parse.GetValue(perClass);
            if (modelPath is not null)
            {
                using var session = GeneratorSession.Load(modelPath, sampling);
                WarnIfOtherData(error, modelPath, session.Contract.Dataset, evaluator.Train.Name);
                scores = evaluator.Score(session, images, byClass);
            }
            else
            {
                var ckpt = Checkpoint.Load(checkpointPath!);
                WarnIfOtherData(error, checkpointPath!, ckpt.Info.Dataset, evaluator.Train.Name);
                using var generator = ckpt.LoadGenerator(checkpointPath!, parse.GetValue(ema) ? "generator_ema" : "generator");
                scores = evaluator.Score(generator, images, byClass, sampling);
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"images scored:        {scores.Count} against {scores.HeldOutCount} held-out real images ({(DateTime.UtcNow - started).TotalSeconds:F1} s){(psi < 1f ? $", latents truncated to ψ {psi}" : "")}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Fréchet distance:     {scores.FrechetDistance:F3}  (real-against-real floor {scores.FrechetFloor:F3}{FloorSpread(scores)}, ratio {scores.FrechetRatio:F2}×)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"class entropy:        {scores.ClassEntropy:F4}  (1 = every class equally often; held-out real images {scores.RealClassEntropy:F4}, ratio {scores.ClassEntropyRatio:F3})"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mean confidence:      {scores.MeanConfidence:F4}"));
            if (scores.ClassAccuracy is { } a)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"class accuracy:       {a:P2}  (images classified as the class asked for, the mean over classes asked in the training set's shares; held-out real images {scores.RealClassAccuracy:P2}, the same mean)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"classifier accuracy:  {scores.ClassifierAccuracy:P2} on held-out real images"));
            output.WriteLine($"class histogram:      {string.Join(" ", scores.ClassHistogram)}");
            if (scores.PerClass is { } rows) WritePerClass(output, rows, conditional: scores.ClassAccuracy is not null, evaluator.Classifier.Config.FeatureDim);
            if (parse.GetValue(json) is { } jsonPath)
                AtomicFile.Write(jsonPath, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(scores, TrainerCli.IndentedJson));
            return 0;
        }));
        return command;
    }

    /// <summary>The per-class table: one row per class, "—" where a class has too few images for a distance, and a mark
    /// where it has no more images than the classifier has features (<paramref name="featureDim"/>).</summary>
    private static void WritePerClass(TextWriter output, IReadOnlyList<ClassScore> rows, bool conditional, int featureDim)
    {
        output.WriteLine(conditional
            ? "per class (generated images by the class asked for, real ones by label; floor: as many training images of the class):"
            : "per class (generated and real images by the classifier's prediction; floor: as many training images of the class):");
        var width = Math.Max(5, rows.Max(r => r.Name.Length) + 4);
        output.WriteLine($"  {"class".PadRight(width)} generated  held-out   Fréchet     floor     ratio");
        static string Number(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "—";
        var few = false;
        foreach (var r in rows)
        {
            var mark = r.FrechetDistance is not null && Math.Min(r.Generated, r.HeldOut) <= featureDim ? " *" : "";
            few |= mark.Length > 0;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {$"{r.Class} {r.Name}".PadRight(width)} {r.Generated,9} {r.HeldOut,9} {Number(r.FrechetDistance, "F3"),9} {Number(r.FrechetFloor, "F3"),9} {(r.FrechetRatio is { } q ? $"{q:F2}×" : "—"),9}{mark}"));
        }
        if (few)
            output.WriteLine($"  * no more images than the classifier's {featureDim} features on one side: the distance and its floor are mostly sampling bias, and their ratio says little.");
    }

    /// <summary>
    /// A warning, not a refusal, when the generator was trained on a dataset of another name than the one it is scored
    /// against (an MNIST model scored on Fashion-MNIST gives figures that look like any others): a dataset's name is its
    /// folder's, and the same data may well sit in a folder of another name.
    /// </summary>
    private static void WarnIfOtherData(TextWriter error, string source, string? trainedOn, string scoredOn)
    {
        if (!string.IsNullOrEmpty(trainedOn) && trainedOn != scoredOn)
            error.WriteLine($"warning: '{source}' was trained on '{trainedOn}'; these scores compare it with '{scoredOn}'.");
    }

    private static string FloorSpread(QualityScores scores) => scores.FrechetFloorSd > 0
        ? string.Create(CultureInfo.InvariantCulture, $", the mean of {GeneratorScorer.FloorDraws} training samples, one sample ± {scores.FrechetFloorSd:F3}")
        : "";
}
