using System.Text.Json.Serialization;

namespace GanOnnx.Trainer.Evaluation;

/// <summary>
/// A generator's scores against a labelled dataset, measured with the project's classifier. The Fréchet distance is
/// between classifier features of generated and held-out real images; <see cref="FrechetFloor"/> is the same distance
/// between two sets of real images (what a perfect generator would get). Mode collapse shows as a low
/// <see cref="ClassEntropy"/> and a Fréchet distance far above the floor.
/// </summary>
public sealed record QualityScores
{
    /// <summary>Images generated and scored.</summary>
    [JsonPropertyName("count")] public int Count { get; init; }
    /// <summary>Fréchet distance of generated against held-out real features.</summary>
    [JsonPropertyName("frechet_distance")] public double FrechetDistance { get; init; }
    /// <summary>
    /// The floor: Fréchet distance of <see cref="Count"/> real training images against the held-out real images, the mean
    /// over <see cref="GeneratorScorer.FloorDraws"/> random training samples (a single sample in older records).
    /// </summary>
    [JsonPropertyName("frechet_floor")] public double FrechetFloor { get; init; }
    /// <summary>Standard deviation of one training sample's floor across the draws (0 when all training images were used, or unknown).</summary>
    [JsonPropertyName("frechet_floor_sd")] public double FrechetFloorSd { get; init; }
    /// <summary>How many held-out real images the generated images were compared with (0 in records written before it existed).</summary>
    [JsonPropertyName("held_out_count")] public int HeldOutCount { get; init; }
    /// <summary>FrechetDistance / FrechetFloor.</summary>
    [JsonPropertyName("frechet_ratio")] public double FrechetRatio => FrechetDistance / Math.Max(FrechetFloor, 1e-12);
    /// <summary>Entropy of the predicted-class histogram divided by log(classes): 1 = all classes equally often.</summary>
    [JsonPropertyName("class_entropy")] public double ClassEntropy { get; init; }
    /// <summary>
    /// The same entropy for the held-out real images: what a generator faithful to the data's class mix gets. It is 1 only
    /// for balanced data (MNIST ≈ 1; the emoji set ≈ 0.7, two thirds of it People &amp; Body), so compare
    /// <see cref="ClassEntropy"/> with it. 0 in records written before it existed.
    /// </summary>
    [JsonPropertyName("real_class_entropy")] public double RealClassEntropy { get; init; }
    /// <summary>ClassEntropy / RealClassEntropy (0 when the latter is unknown).</summary>
    [JsonPropertyName("class_entropy_ratio")] public double ClassEntropyRatio => RealClassEntropy > 0 ? ClassEntropy / RealClassEntropy : 0;
    /// <summary>Mean of the classifier's top softmax probability.</summary>
    [JsonPropertyName("mean_confidence")] public double MeanConfidence { get; init; }
    /// <summary>
    /// Conditional models: the share of images classified as the class they were asked for, averaged over the classes
    /// (each class's share counts alike, however often it was asked: <c>eval</c> asks for the classes in the training set's
    /// shares); null otherwise. Records written before 2026-12-03 give the plain share, every class asked alike.
    /// </summary>
    [JsonPropertyName("class_accuracy")] public double? ClassAccuracy { get; init; }
    /// <summary>
    /// Conditional models: the classifier's balanced accuracy on the held-out real images (the mean over classes of the
    /// share of each class's images it classifies as that class) — what <see cref="ClassAccuracy"/> would be for
    /// generated images as recognisable as real ones, since both weigh every class alike. Null otherwise, and in
    /// records written before it existed.
    /// </summary>
    [JsonPropertyName("real_class_accuracy")] public double? RealClassAccuracy { get; init; }
    /// <summary>The classifier's accuracy on the held-out real images.</summary>
    [JsonPropertyName("classifier_accuracy")] public double ClassifierAccuracy { get; init; }
    /// <summary>How many generated images fell in each class.</summary>
    [JsonPropertyName("class_histogram")] public IReadOnlyList<int> ClassHistogram { get; init; } = [];
    /// <summary>The scores class by class (<c>eval --per-class</c>, <see cref="PerClassScores"/>); null when not measured.</summary>
    [JsonPropertyName("per_class"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<ClassScore>? PerClass { get; init; }

    /// <summary>
    /// The truncation ψ the images were sampled with (<c>eval --truncation</c>); null when they were not truncated, the
    /// only scores <c>export --quality</c> and <c>record-quality</c> write into a model.
    /// </summary>
    [JsonPropertyName("truncation"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? Truncation { get; init; }

    /// <summary>The scores as the flat name → number map written into an exported model's metadata.</summary>
    public Dictionary<string, double> ToMetadata()
    {
        var result = new Dictionary<string, double>
        {
            ["frechet_distance"] = Math.Round(FrechetDistance, 4),
            ["frechet_floor"] = Math.Round(FrechetFloor, 4),
            ["frechet_floor_sd"] = Math.Round(FrechetFloorSd, 4),
            ["class_entropy"] = Math.Round(ClassEntropy, 4),
            ["real_class_entropy"] = Math.Round(RealClassEntropy, 4),
            ["mean_confidence"] = Math.Round(MeanConfidence, 4),
            ["classifier_accuracy"] = Math.Round(ClassifierAccuracy, 4),
            ["eval_count"] = Count,
            ["held_out_count"] = HeldOutCount,
        };
        if (ClassAccuracy is { } a) result["class_accuracy"] = Math.Round(a, 4);
        if (RealClassAccuracy is { } r) result["real_class_accuracy"] = Math.Round(r, 4);
        return result;
    }
}
